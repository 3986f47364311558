// The microkernel ships the esbuild bundle: build it and run it like the microkernel would (node + one file).
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, args, { cwd: ROOT, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );

describe('agent bundle', () => {
  it('builds one file, prints its size, and that file alone replays a profile', async () => {
    const b = await run(['build/agent-bundle.mjs']);
    expect(b.code, b.stderr).toBe(0);
    const m = /crashcart-agent \S* ?bundle: (\S+) ([\d.]+) KiB/.exec(b.stdout);
    expect(m).not.toBeNull();
    const file = path.join(ROOT, m![1]!);
    expect(Math.round(statSync(file).size / 102.4) / 10).toBeCloseTo(Number(m![2]), 0);
    const r = await run([file, '--once', '--print', '--from', 'resources/lab-profiles/fujitsu-rx2540-m4']);
    expect(r.code, r.stderr).toBe(0);
    const f = JSON.parse(r.stdout).facts;
    expect(f).toMatchObject({ manufacturer: 'FUJITSU', productname: 'PRIMERGY RX2540 M4', lldp_eth0_switch: 'sw-filer-f06.dc42' });
  });
});
