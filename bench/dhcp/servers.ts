/** The three DHCP servers the bench compares, each started in the server namespace of a Lab. */
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../../test/support/netns-lab.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { ApplianceProc } from '../../test/dhcp/appliance-proc.ts';

/** Addresses of the bench link. */
export const NET = { server: '10.9.0.1', relay: '10.9.0.2', prefix: 16, start: '10.9.1.0', end: '10.9.255.250' };

/** A started server. */
export interface Running {
  name: string;
  stop(): Promise<void>;
  /** Extra facts for the table (fsyncs, ...). */
  note(): Promise<string>;
}

/** Crashcart: the real plugin with its real store (durable, group-committed lease writes). */
export async function startCrashcart(lab: Lab, ns: string, dir: string): Promise<Running> {
  const app = new ApplianceProc(lab, ns, {
    iface: 's0',
    ip: NET.server,
    prefix: NET.prefix,
    mode: 'full',
    range: { start: NET.start, end: NET.end },
    force: true,
    dataDir: path.join(dir, 'crashcart'),
    quietEvents: true,
    profileDir: process.env.CC_PROFILE_DIR,
    options: { reprobeMs: 0, leaseS: 3600 },
  });
  const l = await app.started();
  if (l.type !== 'ready') throw new Error(`crashcart did not start: ${String(l.message)}`);
  return {
    name: 'Crashcart',
    stop: async () => void (await app.stop()),
    note: async () => {
      const s = await app.stats();
      return `${s.acks ?? 0} ACKs, ${s.malformed ?? 0} malformed`;
    },
  };
}

/** dnsmasq 2.90 as shipped by Debian; no ping check (it would add ~3 s per client and drop everything). */
export async function startDnsmasq(lab: Lab, ns: string, dir: string): Promise<Running> {
  const c = lab.spawnIn(ns, 'dnsmasq', [
    '--no-daemon',
    '--conf-file=/dev/null',
    '--port=0',
    '--interface=s0',
    '--bind-interfaces',
    '--no-ping',
    `--dhcp-range=${NET.start},${NET.end},255.255.0.0,1h`,
    '--dhcp-lease-max=200000',
    '--dhcp-authoritative',
    `--dhcp-leasefile=${path.join(dir, 'dnsmasq.leases')}`,
    `--pid-file=${path.join(dir, 'dnsmasq.pid')}`,
  ]);
  c.stderr?.resume();
  c.stdout?.resume();
  await waitFor('dnsmasq on 67', 10_000, () => lab.exec(ns, 'ss', ['-lun']).includes(':67 '));
  return { name: 'dnsmasq', stop: () => kill(c), note: async () => 'lease file rewritten per change, no fsync' };
}

/** Kea 2.2 kea-dhcp4 with the memfile lease backend (appends, no fsync). */
export async function startKea(lab: Lab, ns: string, dir: string): Promise<Running> {
  const conf = path.join(dir, 'kea-dhcp4.json');
  fs.writeFileSync(
    conf,
    JSON.stringify({
      Dhcp4: {
        'interfaces-config': { interfaces: [`s0/${NET.server}`], 'dhcp-socket-type': 'udp' },
        'lease-database': { type: 'memfile', persist: true, name: path.join(dir, 'kea-leases4.csv'), 'lfc-interval': 0 },
        'valid-lifetime': 3600,
        subnet4: [{ id: 1, subnet: `10.9.0.0/${NET.prefix}`, pools: [{ pool: `${NET.start} - ${NET.end}` }] }],
        loggers: [{ name: 'kea-dhcp4', output_options: [{ output: path.join(dir, 'kea.log') }], severity: 'WARN' }],
      },
    }),
  );
  const c = lab.spawnIn(ns, 'kea-dhcp4', ['-c', conf], { ...process.env, KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir });
  c.stderr?.resume();
  c.stdout?.resume();
  await waitFor('kea on 67', 15_000, () => lab.exec(ns, 'ss', ['-lun']).includes(':67 '));
  return { name: 'Kea (memfile)', stop: () => kill(c), note: async () => 'memfile appends, no fsync' };
}

async function kill(c: ChildProcess): Promise<void> {
  if (c.pid && c.exitCode === null) process.kill(c.pid, 'SIGTERM');
  await waitFor('server exit', 10_000, () => c.exitCode !== null || c.signalCode !== null).catch(() => {
    if (c.pid) process.kill(c.pid, 'SIGKILL');
  });
}
