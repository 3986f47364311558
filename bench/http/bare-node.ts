/**
 * Second reference of bench/http: a bare node:http server holding every bench file in memory and answering
 * a request with `res.end()` of a slice of that Buffer (single ranges, no validators, no routing). It is
 * the most Node itself does without sendfile: what Crashcart's cached path (the same slices, through
 * Fastify) can at best approach. Usage: bare-node.ts PORT DIR FILE... (prints "ready" when listening).
 */
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const [port, dir, ...names] = process.argv.slice(2);
const files = new Map(names.map((n) => [`/${n}`, fs.readFileSync(path.join(dir!, n))]));
const server = http.createServer((req, res) => {
  const data = files.get(req.url ?? '');
  if (!data) {
    res.writeHead(404).end();
    return;
  }
  const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  if (!m) {
    res.writeHead(200, { 'content-length': data.length, 'content-type': 'application/octet-stream' });
    res.end(data);
    return;
  }
  const start = Number(m[1]);
  const end = Math.min(Number(m[2]), data.length - 1);
  res.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${data.length}` });
  res.end(data.subarray(start, end + 1));
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
