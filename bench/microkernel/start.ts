/**
 * Microkernel start benchmark (issue 17): boots the built microkernel in QEMU TCG straight from -kernel/-initrd
 * with a user-mode NIC (QEMU's own DHCP), the appliance URL pointing at a host listener, and times each step
 * from the console: /init, modules, lease, supervisor, the agent's first log line, the first request it sends.
 * A variant replaces /usr/share/crashcart/supervise-agent (and optionally adds files) through a second,
 * uncompressed cpio appended to the initrd (the kernel unpacks concatenated archives in order, later wins).
 *
 * Results and how to read them: docs/performance.md, "Microkernel start (issue 17)". Not a test; run it alone:
 *
 *   /work/helpers/qemu-slot.sh node bin/run-ts.mjs bench/microkernel/start.ts --variants base,single --reps 3
 *   ... --probe [--probe-file FILE.sh]    in-guest timings of node invocations (a shell script as the supervisor)
 *   ... --add GUEST=HOST,...              extra files (e.g. a code-cache loader), --supervisor FILE (the image's
 *                                         supervise-agent when this tree's differs), --dir DIR (another build)
 *   ... --qemu "ARGS"                     more QEMU arguments, split at spaces (e.g. a disk behind a storage
 *                                         controller, throttled so that its scan is slow)
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ipxeKernelOf, REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { startDirect, stopDirect, waitForLine } from '../../test/e2e/harness/direct-boot.ts';

const { writeCpio } = (await import(pathToFileURL(path.join(REPO_ROOT, 'build/microkernel/cpio.mjs')).href)) as {
  writeCpio: (e: { path: string; type: string; mode: number; data?: Buffer }[], mtime: number) => Buffer;
};
const argv = process.argv.slice(2);
const opt = (k: string) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : undefined);
const reps = Number(opt('--reps') ?? 2);
const qemuExtra = (opt('--qemu') ?? '').split(' ').filter(Boolean);
const dir = opt('--dir') ?? path.join(REPO_ROOT, 'build/out/microkernel');
const SUP = 'usr/share/crashcart/supervise-agent';
const NODE_LINE = 'node --enable-experimental-regexp-engine /usr/lib/crashcart/agent-loader.cjs';
/** The supervisor the flag variants edit: the one the booted image was built with (--supervisor FILE when it differs from this tree's). */
const original = readFileSync(opt('--supervisor') ?? path.join(REPO_ROOT, 'build/microkernel/rootfs/supervise-agent'), 'utf8');
if (!original.includes(NODE_LINE)) throw new Error('supervise-agent: the node command line the variants edit is not there');
const withFlags = (flags: string) =>
  original.replace(NODE_LINE, `node ${flags} --enable-experimental-regexp-engine /usr/lib/crashcart/agent-loader.cjs`);
/** Files added to the image: --add GUEST=HOST,GUEST=HOST (guest paths without the leading slash). */
const extra = (opt('--add') ?? '')
  .split(',')
  .filter(Boolean)
  .map((kv) => ({ path: kv.split('=')[0]!, type: 'file', mode: 0o755, data: readFileSync(kv.split('=')[1]!) }));

/** Variants: name -> supervise-agent text (null: the image as built). */
const VARIANTS: Record<string, string | null> = {
  base: null,
  jitless: withFlags('--jitless'),
  pool1: withFlags('--v8-pool-size=1'),
  single: withFlags('--single-threaded'),
  nosp: withFlags('--no-sparkplug --no-opt'),
  lite: withFlags('--lite-mode'),
  nowp: withFlags('--no-write-protect-code-memory'),
};

const PROBE = opt('--probe-file')
  ? readFileSync(opt('--probe-file')!, 'utf8')
  : `#!/bin/sh
export HOME=/root
A=/usr/lib/crashcart/crashcart-agent.mjs
up() { cut -d' ' -f1 /proc/uptime; }
probe() { n=$1; shift; a=$(up); "$@" >/dev/null 2>&1 </dev/null; b=$(up); echo "probe: $n $a $b"; }
echo "probe: begin $(up) $(cat /proc/loadavg)"
for r in 1 2; do
  probe true /bin/true
  probe node-e0 node -e 0
  probe jitless-e0 node --jitless -e 0
  probe pool1-e0 node --v8-pool-size=1 -e 0
  probe single-e0 node --single-threaded -e 0
  probe nowp-e0 node --no-write-protect-code-memory -e 0
  probe lite-e0 node --lite-mode -e 0
  probe help node $A --help
  probe jitless-help node --jitless $A --help
  probe single-help node --single-threaded $A --help
  probe nowp-help node --no-write-protect-code-memory $A --help
  probe nosnap-e0 node --no-node-snapshot -e 0
done
echo "probe: done"
while :; do sleep 60; done
`;

interface Stamp {
  name: string;
  re: RegExp;
}
const STEPS: Stamp[] = [
  { name: '/init', re: /crashcart-init: started/ },
  { name: 'network drivers', re: /crashcart-init: network drivers loaded|crashcart-init: modules loaded/ },
  { name: 'NICs up', re: /crashcart-init: NICs:/ },
  { name: 'lease', re: /crashcart-init: lease:|no DHCP lease/ },
  { name: 'LLDP', re: /crashcart-init: LLDP capture on/ },
  { name: 'drivers settled', re: /crashcart-init: drivers settled/ },
  { name: 'supervisor', re: /crashcart-supervisor: starting agent/ },
  { name: 'agent 1st line', re: /^\{"time"|crashcart-agent/ },
];

async function boot(name: string, sup: string | null, log: string): Promise<Record<string, number>> {
  const base = readFileSync(path.join(dir, 'initrd.img'));
  const entries = [...extra];
  if (sup !== null) entries.push({ path: SUP, type: 'file', mode: 0o755, data: Buffer.from(sup) });
  const initrd = path.join(tmp, `${name}.img`);
  // An uncompressed archive after a compressed one must start 4-byte aligned (zeros between are skipped).
  const pad = Buffer.alloc((512 - (base.length % 512)) % 512);
  writeFileSync(initrd, entries.length ? Buffer.concat([base, pad, writeCpio(entries, 0)]) : base);
  let firstReq = 0;
  let firstUrl = '';
  const srv = http.createServer((req, res) => {
    if (!firstReq) {
      firstReq = Date.now();
      firstUrl = `${req.method} ${req.url}`;
    }
    req.resume();
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"BENCH"}}');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  const g = startDirect({
    arch: 'amd64',
    kernel: path.join(dir, ipxeKernelOf(dir)),
    initrd,
    append: `ipv6.disable=1 quiet crashcart.url=http://10.0.2.2:${port} crashcart.token=bench-start-token`,
    memoryMb: 1024,
    cpus: 2,
    serialFile: log,
    net: ['-nic', 'user,model=virtio-net-pci', ...qemuExtra],
  });
  const out: Record<string, number> = {};
  try {
    if (sup === PROBE) {
      await waitForLine(g, /probe: done/, 600_000);
      for (const l of g.serial.lines) {
        const m = /probe: (\S+) ([\d.]+) ([\d.]+)/.exec(l.text);
        if (m) out[`${m[1]}#${Object.keys(out).filter((k) => k.startsWith(`${m[1]}#`)).length}`] = Number(m[3]) - Number(m[2]);
      }
      return out;
    }
    const t0 = Date.now();
    while (!firstReq && Date.now() - t0 < 300_000) await new Promise((r) => setTimeout(r, 50));
    for (const st of STEPS) {
      const hit = g.serial.find(st.re);
      out[st.name] = hit ? (hit.at - g.poweredOnAt) / 1000 : NaN;
    }
    out['1st request'] = firstReq ? (firstReq - g.poweredOnAt) / 1000 : NaN;
    process.stdout.write(`  first request: ${firstUrl}\n`);
    return out;
  } finally {
    await stopDirect(g);
    srv.close();
  }
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'cc-mk-start-'));
try {
  const names = argv.includes('--probe') ? ['probe'] : (opt('--variants') ?? 'base').split(',');
  for (let r = 0; r < reps; r++) {
    for (const n of r % 2 ? [...names].reverse() : names) {
      const sup = n === 'probe' ? PROBE : VARIANTS[n];
      if (sup === undefined) throw new Error(`unknown variant ${n}`);
      const load = os.loadavg()[0]!.toFixed(2);
      const t = await boot(n, sup, path.join(tmp, `${n}-${r}.log`));
      const rows = Object.entries(t).map(([k, v]) => `${k}=${v.toFixed(2)}`);
      process.stdout.write(`${n} round ${r + 1} (load ${load}): ${rows.join(' ')}\n`);
      if (!argv.includes('--probe')) {
        process.stdout.write(
          `  node start (supervisor -> 1st line) ${(t['agent 1st line']! - t['supervisor']!).toFixed(2)} s, 1st line -> request ${(t['1st request']! - t['agent 1st line']!).toFixed(2)} s, /init -> request ${(t['1st request']! - t['/init']!).toFixed(2)} s\n`,
        );
      }
    }
  }
} finally {
  if (!argv.includes('--keep')) rmSync(tmp, { recursive: true, force: true });
  else process.stdout.write(`logs in ${tmp}\n`);
}
