/** Drive the appliance harness process from a test: wait for lines, ask for stats, stop it. */
import path from 'node:path';
import readline from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import type { CcEvent, EventOf, EventType } from '../../contract/index.ts';
import { ofType } from '../support/events.ts';
import type { Lab } from '../support/netns-lab.ts';
import { waitFor } from '../support/wait-for.ts';

/** One JSON line of the harness. */
export type HarnessLine = { type: string; [k: string]: unknown };

const ROOT = path.resolve(import.meta.dirname, '../..');

/** A running appliance in a namespace. */
export class ApplianceProc {
  readonly lines: HarnessLine[] = [];
  readonly stderr: string[] = [];
  readonly child: ChildProcess;

  /** `cpus`: run under `taskset -c CPUS` (the DHCP bench pins the server to one core). */
  constructor(lab: Lab, ns: string, args: Record<string, unknown>, cpus: string | null = null) {
    const argv = [path.join(ROOT, 'bin/run-ts.mjs'), path.join(ROOT, 'test/dhcp/harness/appliance.ts'), JSON.stringify(args)];
    this.child = cpus ? lab.spawnIn(ns, 'taskset', ['-c', cpus, process.execPath, ...argv]) : lab.spawnIn(ns, process.execPath, argv);
    readline.createInterface({ input: this.child.stdout! }).on('line', (l) => {
      try {
        this.lines.push(JSON.parse(l) as HarnessLine);
      } catch {
        this.stderr.push(l);
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()));
  }

  /** Wait for `ready` (resolves) or `error` (resolves with the error line). */
  async started(ms = 30_000): Promise<HarnessLine> {
    return waitFor(`appliance start (stderr: ${this.stderr.join('').slice(-500)})`, ms, () =>
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
  async reserve(mac: string, ip: string | null): Promise<HarnessLine> {
    const before = this.lines.length;
    this.child.stdin!.write(`reserve ${mac} ${ip ?? '-'}\n`);
    return waitFor('reserved', 10_000, () => this.lines.slice(before).find((x) => x.type === 'reserved'));
  }

  /** Stop cleanly (store closed) and return the final counters. */
  async stop(): Promise<Record<string, number>> {
    this.child.stdin!.write('stop\n');
    const l = await waitFor('stop', 15_000, () => this.lines.find((x) => x.type === 'stopped'));
    await waitFor('exit', 10_000, () => this.child.exitCode !== null);
    return l.stats as Record<string, number>;
  }
}
