// Starts s3rver on 127.0.0.1 (a free port) with buckets "straylight" and
// "interop", prints the port, and stops on SIGTERM or when WATCH_PID exits.
'use strict';
// s3rver encrypts its ListObjectsV2 continuation tokens with DES, which
// OpenSSL 3 only has in its legacy provider (often absent). The tokens are
// opaque to clients, so AES does the same job here.
const crypto = require('crypto');
const pad16 = (b) => Buffer.concat([Buffer.from(b), Buffer.alloc(16)]).subarray(0, 16);
for (const fn of ['createCipheriv', 'createDecipheriv']) {
  const orig = crypto[fn];
  crypto[fn] = (alg, key, iv, opts) =>
    (alg === 'des' ? orig('aes-128-cbc', pad16(key), pad16(iv), opts) : orig(alg, key, iv, opts));
}
const S3rver = require('s3rver');
const dir = process.argv[2];
const server = new S3rver({
  address: '127.0.0.1', port: 0, silent: true, directory: dir,
  configureBuckets: [{ name: 'straylight' }, { name: 'interop' }],
});
server.run().then((addr) => {
  process.stdout.write(`${addr.port}\n`);
}, (err) => { console.error(err); process.exit(1); });
const stop = () => server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
// Never outlive the test that started us (WATCH_PID), even if it is killed.
const watch = Number(process.env.WATCH_PID || 0);
if (watch) setInterval(() => { try { process.kill(watch, 0); } catch (e) { process.exit(0); } }, 500).unref();
