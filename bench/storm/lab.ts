/**
 * The storm's network: a switch namespace (bridge), the appliance's namespace (eth0, 10.30.0.1/16) and a
 * rack namespace whose uplink carries one macvlan per machine (bridge mode: each its own MAC on the
 * switch). Each machine's address gets a policy-routing rule, so its packets leave by its own interface
 * with its own MAC, and ARP is answered only on the interface that holds the address. Names carry the
 * PID; everything is removed by `destroy()`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Addresses of the storm link. */
export const STORM_NET = { server: '10.30.0.1', prefix: 16, start: '10.30.1.0', end: '10.30.9.255' };

/** One machine's interface in the rack namespace. */
export interface RackPort {
  ifname: string;
  mac: string;
  table: number;
}

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Run many `ip` commands at once (`ip -batch`). */
function batch(ns: string | null, lines: string[]): void {
  const f = path.join(os.tmpdir(), `cc-storm-${process.pid}-${Math.random().toString(36).slice(2)}.ip`);
  fs.writeFileSync(f, lines.join('\n') + '\n');
  try {
    sh('ip', [...(ns ? ['-n', ns] : []), '-batch', f]);
  } finally {
    fs.rmSync(f, { force: true });
  }
}

/** The storm lab. */
export class StormLab {
  readonly sw = `cc-storm-${process.pid}-sw`;
  readonly srv = `cc-storm-${process.pid}-srv`;
  readonly rack = `cc-storm-${process.pid}-rack`;
  private readonly made: string[] = [];

  /** Switch and appliance namespaces, the appliance's link. */
  create(): void {
    for (const ns of [this.sw, this.srv]) {
      sh('ip', ['netns', 'add', ns]);
      this.made.push(ns);
    }
    const tag = `ccs${process.pid % 100000}`;
    batch(this.sw, ['link set lo up', 'link add br0 type bridge forward_delay 0 stp_state 0', 'link set br0 up']);
    batch(null, [
      `link add ${tag}a type veth peer name ${tag}b`,
      `link set ${tag}a netns ${this.srv}`,
      `link set ${tag}b netns ${this.sw}`,
    ]);
    batch(this.srv, [
      'link set lo up',
      `link set ${tag}a name eth0`,
      `addr add ${STORM_NET.server}/${STORM_NET.prefix} dev eth0`,
      'link set eth0 up',
    ]);
    batch(this.sw, [`link set ${tag}b master br0`, `link set ${tag}b up`]);
  }

  private sysctl(ns: string, kv: string[]): void {
    sh('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', ...kv]);
  }

  /** A fresh rack namespace with one macvlan per machine (made anew for every run: no address left over). */
  createRack(ports: RackPort[]): void {
    this.destroyRack();
    sh('ip', ['netns', 'add', this.rack]);
    const tag = `ccs${process.pid % 100000}`;
    batch(null, [
      `link add ${tag}c type veth peer name ${tag}d`,
      `link set ${tag}c netns ${this.rack}`,
      `link set ${tag}d netns ${this.sw}`,
    ]);
    batch(this.sw, [`link set ${tag}d master br0`, `link set ${tag}d up`]);
    this.sysctl(this.rack, [
      'net.ipv4.conf.all.arp_ignore=1',
      'net.ipv4.conf.all.arp_announce=2',
      'net.ipv4.conf.default.arp_ignore=1',
      'net.ipv4.conf.default.arp_announce=2',
      'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0',
    ]);
    const lines = ['link set lo up', `link set ${tag}c name uplink`, 'link set uplink up'];
    for (const p of ports)
      lines.push(
        `link add ${p.ifname} link uplink address ${p.mac} type macvlan mode bridge`,
        `link set ${p.ifname} up`,
        `route add ${STORM_NET.server.replace(/\.\d+\.\d+$/, '.0.0')}/${STORM_NET.prefix} dev ${p.ifname} table ${p.table}`,
      );
    batch(this.rack, lines);
  }

  /** Remove the rack namespace (its interfaces go with it). */
  destroyRack(): void {
    killPids(this.rack);
    try {
      sh('ip', ['netns', 'del', this.rack]);
    } catch {
      /* not there */
    }
  }

  /** Kill what runs in the namespaces (by PID) and delete them. */
  destroy(): void {
    this.destroyRack();
    for (const ns of this.made.reverse()) {
      killPids(ns);
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {
        /* gone */
      }
    }
  }
}

function killPids(ns: string): void {
  try {
    for (const p of sh('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  } catch {
    /* no namespace */
  }
}
