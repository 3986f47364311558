#!/usr/bin/env node
// Compiles Crashcart's N-API addons (native/*.c) for this machine:
//   node build/native.mjs  ->  build/out/native/crashcart-<name>-<platform>-<arch>.node
//   sendfile   the node plane's zero-copy sender (server/http/asset-sendfile.ts)
//   tftp-pump  the data phase of a TFTP read transfer (server/tftp/native-transfer.ts)
//   udp-batch  the DHCP server's sockets, read with recvmmsg(2) (server/net/native-udp.ts)
//   reexec     bin/crashcart.mjs starting `serve` again with the V8 flags it lacks (bin/v8-flags.mjs, server/system/v8-flags.ts)
//   fsync-thread  the group commit's fdatasync on a thread of its own (server/store/group-fsync.ts)
//   sched-policy  on one CPU, V8's background threads at SCHED_IDLE and the main thread at SCHED_FIFO (server/system/background-threads.ts)
// Needs a C compiler and Node's headers (Debian: gcc, libc6-dev; the headers come with Node under
// <prefix>/include/node). Skips an addon whose output is newer than its source. Without the addons the
// appliance still works: the node plane sends from memory, TFTP runs in JavaScript and DHCP reads through
// Node's sockets (docs/performance.md).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADDONS } from './native-addons.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const headers = [path.join(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'].find((d) =>
  fs.existsSync(path.join(d, 'node_api.h')),
);
for (const name of ADDONS) {
  const src = path.join(root, 'native', `${name}.c`);
  const out = path.join(root, 'build', 'out', 'native', `crashcart-${name}-${process.platform}-${process.arch}.node`);
  // The source and the headers every addon includes (native/*.h).
  const inputs = [
    src,
    ...fs
      .readdirSync(path.join(root, 'native'))
      .filter((f) => f.endsWith('.h'))
      .map((f) => path.join(root, 'native', f)),
  ];
  const newest = Math.max(...inputs.map((f) => fs.statSync(f).mtimeMs));
  if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= newest && !process.argv.includes('--force')) {
    console.log(`${path.relative(root, out)} is up to date`);
    continue;
  }
  if (!headers) {
    console.error(`crashcart: Node's headers (node_api.h) are missing next to ${process.execPath}.`);
    console.error('  fix: install Node from a package that ships include/node (nodesource, the official tarball), or skip the addons');
    process.exit(1);
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', '-I', headers, '-o', tmp, src, '-lm'], {
      stdio: 'inherit',
    });
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    console.error(`crashcart: compiling ${path.relative(root, src)} failed (${e.message.split('\n')[0]}).`);
    console.error('  fix: apt-get install gcc libc6-dev, then run node build/native.mjs again');
    process.exit(1);
  }
  fs.renameSync(tmp, out);
  console.log(`${path.relative(root, out)} ${(fs.statSync(out).size / 1024).toFixed(0)} KiB`);
}
