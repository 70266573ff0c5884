// Validates a straylight SPDX 2.3 document against the SPDX 2.3 JSON schema
// with ajv, then checks the cross-references the schema leaves open.
// usage: node validate_spdx.js DOC.json SCHEMA.json
'use strict';
const fs = require('fs');
const Ajv = require('ajv');
const addFormats = require('ajv-formats');

const [file, schemaFile] = process.argv.slice(2);
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaFile, 'utf8')));
const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
const fail = m => { console.error(`${file}: ${m}`); process.exit(1); };
if (!validate(doc)) fail('invalid SPDX 2.3: ' + JSON.stringify(validate.errors.slice(0, 5), null, 1));
if (doc.spdxVersion !== 'SPDX-2.3' || doc.dataLicense !== 'CC0-1.0') fail('bad header');
if (!/^[a-z][a-z0-9+.-]*:[^#]+$/.test(doc.documentNamespace)) fail(`documentNamespace ${doc.documentNamespace} is not an absolute URI without '#'`);
if (Number.isNaN(Date.parse(doc.creationInfo.created)) || !/Z$/.test(doc.creationInfo.created)) fail('created is not a UTC time');
const ids = new Set(['SPDXRef-DOCUMENT']);
for (const p of doc.packages) {
  if (!/^SPDXRef-[A-Za-z0-9.-]+$/.test(p.SPDXID)) fail(`bad SPDXID ${p.SPDXID}`);
  if (ids.has(p.SPDXID)) fail(`duplicate SPDXID ${p.SPDXID}`);
  ids.add(p.SPDXID);
  for (const c of p.checksums || []) if (!/^[0-9a-f]{64}$/.test(c.checksumValue)) fail(`${p.SPDXID}: bad checksum`);
}
let describes = 0;
for (const r of doc.relationships) {
  if (!ids.has(r.spdxElementId) || !ids.has(r.relatedSpdxElement)) fail(`relationship ${JSON.stringify(r)} names an unknown element`);
  if (r.relationshipType === 'DESCRIBES' && r.spdxElementId === 'SPDXRef-DOCUMENT') describes++;
}
if (describes !== 1 || doc.documentDescribes.length !== 1) fail('the document must describe exactly its root');
const graded = doc.packages.filter(p => (p.annotations || []).some(a => a.comment.startsWith('straylight:grade='))).length;
console.log(`${file}: valid SPDX 2.3; ${doc.packages.length} packages (${graded} with grades), ${doc.relationships.length} relationships`);
