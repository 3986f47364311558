/**
 * `npm run bench`: every benchmark in turn (each prints our figures next to a reference run made in the
 * same run), then docs/performance.md is reassembled from their RESULTS.md files.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../server/boot/microkernel-assets.ts';

const BENCHES = ['checkin', 'dhcp', 'sched', 'tftp', 'http', 'storm', 'microkernel', 'loaders'];
let failed = 0;
for (const b of BENCHES) {
  const entry = path.join(REPO_ROOT, 'bench', b, 'run.ts');
  if (!fs.existsSync(entry)) continue;
  process.stdout.write(`\n== bench/${b}\n`);
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'run-ts.mjs'), entry], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'run-ts.mjs'), path.join(REPO_ROOT, 'scripts', 'gen-performance-doc.ts')], {
  stdio: 'inherit',
});
process.exitCode = failed ? 1 : 0;
