/**
 * The rack: one process in the client namespace simulating every machine (each with its own interface,
 * MAC and address). `node bin/run-ts.mjs bench/storm/client.ts SPEC.json`: prints `ready`, waits for `go`
 * on stdin, powers every machine on at once, prints one JSON result line per machine and then `done` (with the
 * rack's own CPU over the storm: on two cores it competes with the server for them).
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { bootMachine, type MachineSpec } from './machine.ts';

interface Spec {
  reference: boolean;
  /** Fetch the kernel and initrd from here instead of the URLs in the script (`--assets-from nginx`). */
  assetBase?: string;
  machines: Omit<MachineSpec, 'ifindex'>[];
}

const spec = JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8')) as Spec;
const machines: MachineSpec[] = spec.machines.map((m) => ({
  ...m,
  ifindex: Number(fs.readFileSync(`/sys/class/net/${m.ifname}/ifindex`, 'utf8')),
}));
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
out({ type: 'ready', machines: machines.length });
const rl = readline.createInterface({ input: process.stdin });
rl.once('line', () => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  void Promise.all(
    machines.map(async (m) => {
      const r = await bootMachine(m, t0, spec.reference, spec.assetBase);
      out({ type: 'result', ...r });
    }),
  ).then(() => {
    const c = process.cpuUsage(c0);
    out({ type: 'done', ms: Math.round(performance.now() - t0), cpuMs: Math.round((c.user + c.system) / 1000) });
    rl.close();
    process.exit(0);
  });
});
