// Validates a straylight CycloneDX document with the CycloneDX library's
// strict JSON validator for spec 1.6, then checks what a schema cannot:
// references resolve, every derivation carries its grade, and the pinned
// fetches are exactly the expected count.
// usage: node validate_cyclonedx.js BOM.json EXPECTED_PINNED
'use strict';
const fs = require('fs');
const cdx = require('@cyclonedx/cyclonedx-library');

async function schemaErrors(text) {
  const v = new cdx.Validation.JsonStrictValidator(cdx.Spec.Version.v1dot6);
  try {
    return { how: 'JsonStrictValidator', errors: await v.validate(text) };
  } catch (e) {
    if (!(e instanceof cdx.Validation.MissingOptionalDependencyError)) throw e;
  }
  // The library's validator wants ajv-formats-draft2019 only for the
  // "idn-email" format; compile the library's own 1.6 strict schema with ajv
  // exactly as it does, with that one format supplied here.
  const Ajv = require('ajv');
  const addFormats = require('ajv-formats');
  const F = cdx._Resources.FILES;
  const read = p => JSON.parse(fs.readFileSync(p, 'utf8'));
  const ajv = new Ajv({
    useDefaults: false, strict: false, strictSchema: false, addUsedSchema: false,
    schemas: {
      'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json': read(F.SPDX.JSON_SCHEMA),
      'http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json': read(F.CryptoDefs.JSON_SCHEMA),
      'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json': read(F.JSF.JSON_SCHEMA),
    },
  });
  addFormats(ajv);
  ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/u);
  ajv.addFormat('iri-reference', true);
  const validate = ajv.compile(read(F.CDX.JSON_STRICT_SCHEMA[cdx.Spec.Version.v1dot6]));
  return { how: 'library 1.6 strict schema via ajv', errors: validate(JSON.parse(text)) ? null : validate.errors };
}

(async () => {
  const [file, expectPinned] = process.argv.slice(2);
  const text = fs.readFileSync(file, 'utf8');
  const { how, errors } = await schemaErrors(text);
  if (errors) {
    console.error(`${file}: invalid CycloneDX 1.6 (${how}):`, JSON.stringify(errors.slice(0, 5), null, 1));
    process.exit(1);
  }
  const bom = JSON.parse(text);
  const fail = m => { console.error(`${file}: ${m}`); process.exit(1); };
  if (bom.specVersion !== '1.6') fail('specVersion is not 1.6');
  const comps = [bom.metadata.component, ...bom.components];
  const refs = new Set();
  for (const c of comps) {
    if (refs.has(c['bom-ref'])) fail(`duplicate bom-ref ${c['bom-ref']}`);
    refs.add(c['bom-ref']);
  }
  for (const d of bom.dependencies) {
    if (!refs.has(d.ref)) fail(`dependency ref ${d.ref} names no component`);
    for (const t of d.dependsOn || []) if (!refs.has(t)) fail(`dependsOn ${t} names no component`);
  }
  let drvs = 0, pinned = 0;
  for (const c of comps) {
    const props = Object.fromEntries((c.properties || []).map(p => [p.name, p.value]));
    if (!props['nix:drv_path']) continue;
    drvs++;
    if (props['straylight:grade'] === undefined) fail(`${c['bom-ref']} has no grade`);
    const g = JSON.parse(props['straylight:grade']);
    if (g.net && g.net.pinned) {
      pinned++;
      if (!(c.externalReferences || []).some(r => r.type === 'distribution')) fail(`${c['bom-ref']}: a fetch without a URL`);
    }
    if (!/^pkg:[a-z][a-z0-9.+-]*\/[^@]+(@.+)?$/.test(c.purl)) fail(`${c["bom-ref"]}: bad purl ${c.purl}`);
  }
  if (expectPinned !== undefined && pinned !== Number(expectPinned)) fail(`${pinned} pinned fetches, expected ${expectPinned}`);
  console.log(`${file}: valid CycloneDX 1.6 (${how}); ${comps.length} components, ${drvs} derivations, ${pinned} pinned fetches, ${bom.dependencies.length} dependency entries`);
})().catch(e => { console.error(e); process.exit(2); });
