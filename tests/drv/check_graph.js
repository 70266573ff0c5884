// Re-derives every action digest of `straylight graph --format json` with an
// independent RFC 8785 canonicaliser (JavaScript's own JSON.stringify and
// UTF-16 key order, which is what RFC 8785 specifies), and checks the graph.
// usage: node check_graph.js GRAPH.json EXPECTED_ACTIONS EXPECTED_PINNED
'use strict';
const fs = require('fs');
const crypto = require('crypto');

function jcs(v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(jcs).join(',') + ']';
  return '{' + Object.keys(v).sort().map(k => JSON.stringify(k) + ':' + jcs(v[k])).join(',') + '}';
}

const [file, expectActions, expectPinned] = process.argv.slice(2);
const g = JSON.parse(fs.readFileSync(file, 'utf8'));
const fail = m => { console.error(`${file}: ${m}`); process.exit(1); };
const byDigest = new Map(g.actions.map(a => [a.digest, a]));
let pinned = 0;
for (const a of g.actions) {
  const d = crypto.createHash('sha256').update(jcs(a.action), 'utf8').digest('hex');
  if (d !== a.digest) fail(`${a.drvPath}: digest ${a.digest} but the canonical JSON hashes to ${d}`);
  if (jcs(a.grade) !== jcs(a.action.grade)) fail(`${a.drvPath}: grade differs from the action's`);
  for (const i of a.inputs.actions) if (!byDigest.has(i.digest)) fail(`${a.drvPath}: input ${i.digest} is not in the graph`);
  const want = a.inputs.actions.map(i => i.digest).sort();
  const got = a.action.inputs.actions.map(i => i.digest);
  if (jcs(want) !== jcs(got)) fail(`${a.drvPath}: action inputs are not the sorted input digests`);
  if (a.grade.net && a.grade.net.pinned) {
    pinned++;
    if (a.class !== 'pinned') fail(`${a.drvPath}: pinned but class ${a.class}`);
  }
}
if (g.actions.length !== Number(expectActions)) fail(`${g.actions.length} actions, expected ${expectActions}`);
if (pinned !== Number(expectPinned)) fail(`${pinned} pinned, expected ${expectPinned}`);
const c = g.closure.counts;
if (c.pure + c.pinned + c.impure !== c.actions) fail('class counts do not add up');
console.log(`${file}: ${g.actions.length} actions, all digests re-derived; ${pinned} net-pinned; classes ${JSON.stringify(c)}`);
