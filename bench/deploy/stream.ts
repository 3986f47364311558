/**
 * Write throughput of the agent's image stream (agent/tasks/image-stream.ts: HTTP -> zstd -dc -> disk, then
 * the read-back sha256) on this machine, next to `zstd -dc | dd` of the same image to the same kind of
 * target. Usage: node bin/run-ts.mjs bench/deploy/stream.ts IMAGE.raw.zst RAW_SIZE RAW_SHA256 [TARGET_DIR]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { readBackSha256, streamImageToDisk } from '../../agent/tasks/image-stream.ts';

const [file, sizeArg, shaArg, dirArg] = process.argv.slice(2);
if (!file || !sizeArg || !shaArg) {
  console.error('usage: stream.ts IMAGE.raw.zst RAW_SIZE RAW_SHA256 [TARGET_DIR]');
  process.exit(2);
}
const dir = dirArg ?? '/var/tmp';
const stored = fs.statSync(file).size;
const storedSha = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const server = http.createServer((req, res) => {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m ? Number(m[1]) : 0;
  res.writeHead(m ? 206 : 200, { 'content-length': stored - start });
  fs.createReadStream(file, { start }).pipe(res);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/img`;
const target = path.join(dir, `cc-bench-disk-${process.pid}`);
fs.writeFileSync(target, '');
fs.truncateSync(target, Number(sizeArg));
const w = await streamImageToDisk({ url, storedSize: stored, storedSha256: storedSha, size: Number(sizeArg), diskPath: target });
const t0 = Date.now();
const got = await readBackSha256(target, Number(sizeArg));
const verify = (Date.now() - t0) / 1000;
if (got !== shaArg) throw new Error(`read-back sha256 ${got} is not ${shaArg}`);
fs.rmSync(target);
server.close();
const t1 = Date.now();
execFileSync('sh', ['-c', `zstd -dc -q "${file}" | dd of="${target}" bs=4M conv=fsync status=none`]);
const dd = (Date.now() - t1) / 1000;
fs.rmSync(target);
const mb = Number(sizeArg) / 1e6;
console.log(`agent stream: ${w.seconds.toFixed(1)} s, ${(mb / w.seconds).toFixed(1)} MB/s written; read-back ${verify.toFixed(1)} s`);
console.log(`zstd -dc | dd conv=fsync: ${dd.toFixed(1)} s, ${(mb / dd).toFixed(1)} MB/s`);
