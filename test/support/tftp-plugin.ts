/**
 * The kit's TFTP-plugin-alone mode: Crashcart's TFTP plugin with a fake core (tftp-plugin-main.ts is the
 * program) in a lab namespace, started by the kit's one `launch`. For the TFTP tests and bench that drive
 * real clients against the plugin with limits and per-client overrides no `serve` flag reaches.
 */
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { TftpStats } from '../../server/tftp/stats.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { launch } from './appliance.ts';
import type { Lab } from './netns-lab.ts';

/** What the plugin runs with (one JSON argument of tftp-plugin-main.ts). */
export interface TftpPluginArgs {
  iface: string;
  ip: string;
  roots: string[];
  port?: number;
  limits?: { maxTransfers?: number; maxPerClient?: number; blksizeCap?: number };
  /** IP -> file overrides the fake core decides. */
  overrides?: Record<string, Record<string, string>>;
  /** Run transfers in JavaScript (`--tftp-js`) instead of the native pump. */
  tftpJs?: boolean;
}

/** The TFTP plugin running alone in a namespace. */
export interface TftpPluginProc {
  port: number;
  /** The server process (`ip netns exec` and taskset exec it, so this is node itself). */
  pid: number;
  stats(): Promise<TftpStats>;
  events(): Promise<Array<{ type: string; message: string; node_id: number | null; data: Record<string, unknown> }>>;
  stop(): Promise<void>;
}

/** Start it in `ns` of `lab` (killed by the lab's cleanup too), under `taskset -c CPUS` when given; resolves once it listens. */
export async function startTftpPlugin(lab: Lab, ns: string, args: TftpPluginArgs, cpus: string | null = null): Promise<TftpPluginProc> {
  const argv = [path.join(REPO_ROOT, 'bin/run-ts.mjs'), path.join(REPO_ROOT, 'test/support/tftp-plugin-main.ts'), JSON.stringify(args)];
  const p = launch(argv, { netns: lab.ns(ns), stdin: true, ...(cpus ? { wrap: ['taskset', '-c', cpus] } : {}) });
  lab.children.push(p.child);
  const waiting: Array<(v: Record<string, unknown>) => void> = [];
  createInterface({ input: p.child.stdout! }).on('line', (l) => waiting.shift()?.(JSON.parse(l) as Record<string, unknown>));
  const next = (cmd?: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`TFTP plugin did not answer ${cmd ?? 'ready'}: ${p.output().slice(-4000)}`)), 20_000);
      waiting.push((v) => {
        clearTimeout(t);
        resolve(v);
      });
      if (cmd) p.child.stdin!.write(cmd + '\n');
    });
  const ready = await next();
  return {
    port: ready.ready as number,
    pid: p.child.pid!,
    stats: async () => (await next('stats')).stats as TftpStats,
    events: async () => (await next('events')).events as Awaited<ReturnType<TftpPluginProc['events']>>,
    stop: () =>
      new Promise<void>((resolve) => {
        if (p.exited()) return resolve();
        p.child.once('exit', () => resolve());
        p.child.stdin!.write('stop\n');
      }),
  };
}
