// Signs the same requests with straylight's signer (the helper given as
// argv[2], fed JSON on stdin) and with @smithy/signature-v4, the AWS SDK's
// own, and compares the Authorization headers. The cases are the ones
// libcurl 7.88 gets wrong: unsorted queries, '/' and '+' in query values, a
// bare ?uploads, plus an empty payload and UNSIGNED-PAYLOAD.
'use strict';
const { SignatureV4 } = require('@smithy/signature-v4');
const { execFileSync } = require('child_process');
const crypto = require('crypto');

// The checksum constructor smithy takes: a hash, or an HMAC when keyed.
class Sha256 {
  constructor(secret) {
    this.h = secret ? crypto.createHmac('sha256', Buffer.from(secret)) : crypto.createHash('sha256');
  }
  update(data) { this.h.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data)); }
  async digest() { return new Uint8Array(this.h.digest()); }
}

const EMPTY = crypto.createHash('sha256').update('').digest('hex');
const cases = [
  { name: 'get object', method: 'GET', path: '/straylight/cas/abc', query: [], payload: EMPTY },
  { name: 'unsorted query', method: 'GET', path: '/straylight', query: [['prefix', 'cas/'], ['list-type', '2'], ['max-keys', '10']], payload: EMPTY },
  { name: "'/', '+', '=' in values", method: 'GET', path: '/straylight', query: [['list-type', '2'], ['continuation-token', 'a/b+c=='], ['prefix', 'nar/x y']], payload: EMPTY },
  { name: 'bare ?uploads', method: 'POST', path: '/straylight/nar/big.nar', query: [['uploads', null]], payload: EMPTY },
  { name: 'upload part', method: 'PUT', path: '/straylight/nar/big.nar', query: [['uploadId', 'VXBsb2FkIElE/+x=='], ['partNumber', '2']], payload: crypto.createHash('sha256').update('part').digest('hex') },
  { name: 'unsigned payload', method: 'PUT', path: '/straylight/k', query: [], payload: 'UNSIGNED-PAYLOAD' },
  { name: 'special key', method: 'PUT', path: '/straylight/dir/a b+c$~.narinfo', query: [], payload: EMPTY, headers: [['If-None-Match', '*']] },
  { name: 'session token', method: 'GET', path: '/straylight/x', query: [], payload: EMPTY, token: 'FwoGZXIvYXdzE/token+==' },
];
const date = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
const amzDate = '20240102T030405Z';
const host = '127.0.0.1:9000';

async function smithy(c) {
  const signer = new SignatureV4({
    service: 's3', region: 'auto', sha256: Sha256, uriEscapePath: false, applyChecksum: false,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: c.token },
  });
  const query = {};
  for (const [k, v] of c.query) query[k] = v === null ? '' : v;
  const headers = { host, 'x-amz-content-sha256': c.payload };
  for (const [k, v] of c.headers || []) headers[k] = v;
  // smithy expects an already-encoded path (as the SDK builds it).
  const path = c.path.split('/').map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)).join('/');
  const signed = await signer.sign({ method: c.method, protocol: 'http:', hostname: '127.0.0.1', port: 9000, path, query, headers }, { signingDate: date });
  return signed.headers.authorization;
}

async function main() {
  const input = JSON.stringify(cases.map((c) => ({ ...c, host, date: amzDate, region: 'auto', service: 's3',
    access_key: 'AKIDEXAMPLE', secret_key: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' })));
  const ours = execFileSync(process.argv[2], ['--sign-json'], { input }).toString().trim().split('\n');
  let bad = 0;
  for (let i = 0; i < cases.length; i++) {
    const theirs = await smithy(cases[i]);
    const ok = theirs === ours[i];
    if (!ok) bad++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${cases[i].name}${ok ? '' : `\n  smithy:     ${theirs}\n  straylight: ${ours[i]}`}`);
  }
  console.log(`${cases.length - bad}/${cases.length} signatures identical to @smithy/signature-v4`);
  process.exit(bad ? 1 : 0);
}
main().catch((e) => { console.error(e); process.exit(1); });
