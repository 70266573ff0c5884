// A static HTTP server over a directory (a Nix binary cache), for the HTTP
// substitution test: GET and HEAD, byte ranges, 404s. Prints its port.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const root = path.resolve(process.argv[2]);
const server = http.createServer((req, res) => {
  const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = path.join(root, rel);
  if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404);
    return res.end('not found');
  }
  const size = fs.statSync(file).size;
  let start = 0;
  const m = /^bytes=(\d+)-$/.exec(req.headers.range || '');
  if (m) start = Number(m[1]);
  res.writeHead(m ? 206 : 200, { 'content-length': size - start });
  if (req.method === 'HEAD') return res.end();
  fs.createReadStream(file, { start }).pipe(res);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
const watch = Number(process.env.WATCH_PID || 0);
if (watch) setInterval(() => { try { process.kill(watch, 0); } catch (e) { process.exit(0); } }, 500).unref();
