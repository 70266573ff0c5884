// A faulty HTTP proxy in front of the S3 server, for the fault tests.
//   truncate   : GET bodies over 1000 bytes are cut in half, then the
//                connection is dropped (a truncated download).
//   stop AFTER : after AFTER request-body bytes have passed, the proxy dies
//                (the server stops in the middle of an upload).
//   flaky N    : every other request, N times in all, is answered 503 SlowDown
//                (a throttling or failing server: the client must retry).
'use strict';
const http = require('http');
const [target, mode, arg] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4] || 0)];
let passed = 0;
let requests = 0;
let refused = 0;
const sockets = new Set();
const server = http.createServer((req, res) => {
  requests++;
  if (mode === 'flaky' && refused < arg && requests % 2 === 1) {
    refused++;
    req.resume();
    res.writeHead(503, { 'content-type': 'application/xml' });
    return res.end('<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
  }
  const up = http.request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers },
    (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      const len = Number(ur.headers['content-length'] || 0);
      if (mode === 'truncate' && req.method === 'GET' && ur.statusCode < 300 && len > 1000) {
        let sent = 0;
        ur.on('data', (chunk) => {
          if (sent >= len / 2) return;
          const part = chunk.subarray(0, Math.max(0, Math.min(chunk.length, Math.floor(len / 2) - sent)));
          sent += part.length;
          res.write(part);
          if (sent >= len / 2) setTimeout(() => res.socket && res.socket.destroy(), 20);
        });
      } else {
        ur.pipe(res);
      }
    });
  up.on('error', () => res.socket && res.socket.destroy());
  req.on('data', (chunk) => {
    passed += chunk.length;
    if (mode === 'stop' && passed > arg) {
      for (const s of sockets) s.destroy();
      server.close();
      process.exit(0);
    }
    up.write(chunk);
  });
  req.on('end', () => up.end());
});
server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
// Never outlive the test that started us (WATCH_PID), even if it is killed.
const watch = Number(process.env.WATCH_PID || 0);
if (watch) setInterval(() => { try { process.kill(watch, 0); } catch (e) { process.exit(0); } }, 500).unref();
