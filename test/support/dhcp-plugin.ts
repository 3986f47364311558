/**
 * The kit's DHCP-plugin-alone mode: the DHCP plugin on a real store and real sockets in a lab namespace, with
 * no planes and no core (dhcp-plugin-main.ts is the program), started by the kit's one `launch`. For the DHCP
 * tests that need plugin options no `serve` flag reaches (probe time, 8 s leases, link poll period) and a
 * recorder of what firmware asked for; tests where the whole process is the point use `spawnAppliance`.
 */
import path from 'node:path';
import readline from 'node:readline';
import type { CcEvent, EventOf, EventType } from '../../contract/index.ts';
import type { Config } from '../../server/config/schema.ts';
import type { DhcpPluginOptions } from '../../server/dhcp/plugin.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { launch, type Launched } from './appliance.ts';
import { ofType } from './events.ts';
import type { Lab } from './netns-lab.ts';
import { waitFor } from './wait-for.ts';

/** What the plugin runs with (one JSON argument of dhcp-plugin-main.ts). */
export interface DhcpPluginArgs {
  iface: string;
  ip: string;
  prefix: number;
  mode: 'full' | 'proxy';
  range: { start: string; end: string } | null;
  force: boolean;
  dataDir: string;
  options?: DhcpPluginOptions;
  /** Config additions: extra pools, extra options, the conflict check. */
  config?: Partial<Pick<Config, 'pools' | 'dhcpOptions' | 'conflictCheck' | 'dhcpWarmStart' | 'dhcpJs'>>;
  /** Answer HTTP on 8026 and record TFTP read requests on 69. */
  bootServers?: boolean;
  /** Serve resources/ipxe with the real TFTP plugin instead of the recorder (needs bootServers). */
  realTftp?: boolean;
  /** Do not echo events on stdout (benchmarks: the echo would cost more than the server). */
  quietEvents?: boolean;
  /** Write a CPU profile into this folder (node --cpu-prof is not reachable through tsx). */
  profileDir?: string;
}

/** One JSON line of the plugin process. */
export type PluginLine = { type: string; [k: string]: unknown };

/** The DHCP plugin running alone in a namespace. */
export class DhcpPluginProc {
  readonly lines: PluginLine[] = [];
  readonly stderr: string[] = [];
  readonly proc: Launched;

  /** Start it in `ns` of `lab` (killed by the lab's cleanup too); `cpus`: run under `taskset -c CPUS` (the bench). */
  constructor(lab: Lab, ns: string, args: DhcpPluginArgs, cpus: string | null = null) {
    const argv = [path.join(REPO_ROOT, 'bin/run-ts.mjs'), path.join(REPO_ROOT, 'test/support/dhcp-plugin-main.ts'), JSON.stringify(args)];
    this.proc = launch(argv, { netns: lab.ns(ns), stdin: true, ...(cpus ? { wrap: ['taskset', '-c', cpus] } : {}) });
    lab.children.push(this.proc.child);
    readline.createInterface({ input: this.child.stdout! }).on('line', (l) => {
      try {
        this.lines.push(JSON.parse(l) as PluginLine);
      } catch {
        this.stderr.push(l);
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()));
  }

  /** The child process. */
  get child() {
    return this.proc.child;
  }

  /** Wait for `ready` (resolves) or `error` (resolves with the error line). */
  async started(ms = 30_000): Promise<PluginLine> {
    return waitFor(`DHCP plugin start (stderr: ${this.stderr.join('').slice(-500)})`, ms, () =>
      this.lines.find((l) => l.type === 'ready' || l.type === 'error'),
    );
  }

  /** Events seen so far. */
  events(): CcEvent[];
  events<T extends EventType>(type: T): EventOf<T>[];
  events(type?: EventType): CcEvent[] {
    const all = this.lines.filter((l) => l.type === 'event').map((l) => l.event as CcEvent);
    return type ? (ofType(all, type) as CcEvent[]) : all;
  }

  /** Current counters. */
  async stats(): Promise<Record<string, number>> {
    const before = this.lines.length;
    this.child.stdin!.write('stats\n');
    const l = await waitFor('stats', 10_000, () => this.lines.slice(before).find((x) => x.type === 'stats'));
    return l.stats as Record<string, number>;
  }

  /** Set (or with `ip` null remove) a reservation through the store-backed service, live. */
  async reserve(mac: string, ip: string | null): Promise<PluginLine> {
    const before = this.lines.length;
    this.child.stdin!.write(`reserve ${mac} ${ip ?? '-'}\n`);
    return waitFor('reserved', 10_000, () => this.lines.slice(before).find((x) => x.type === 'reserved'));
  }

  /** Stop cleanly (store closed) and return the final counters. */
  async stop(): Promise<Record<string, number>> {
    this.child.stdin!.write('stop\n');
    const l = await waitFor('stop', 15_000, () => this.lines.find((x) => x.type === 'stopped'));
    await waitFor('exit', 10_000, () => this.proc.exited());
    return l.stats as Record<string, number>;
  }

  /** SIGKILL by pid and wait for the exit (a failed test leaves nothing running for the next one). */
  async kill(): Promise<void> {
    if (this.proc.exited()) return;
    this.child.kill('SIGKILL');
    await waitFor('DHCP plugin exit', 10_000, () => this.proc.exited());
  }
}
