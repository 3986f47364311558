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
import { Lab } from '../../test/support/netns-lab.ts';

/** Addresses of the storm link. */
export const STORM_NET = { server: '10.30.0.1', prefix: 16, start: '10.30.1.0', end: '10.30.9.255' };

/** One machine's interface in the rack namespace. */
export interface RackPort {
  ifname: string;
  mac: string;
  table: number;
}

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Run many `ip` commands at once in a namespace (`ip -batch`: hundreds of macvlans). */
function batch(ns: string, lines: string[]): void {
  const f = path.join(os.tmpdir(), `cc-storm-${process.pid}-${Math.random().toString(36).slice(2)}.ip`);
  fs.writeFileSync(f, lines.join('\n') + '\n');
  try {
    sh('ip', ['-n', ns, '-batch', f]);
  } finally {
    fs.rmSync(f, { force: true });
  }
}

/** The storm lab, on the test kit's namespace lab (names cc-storm-<pid>-run-<sw|srv|rack>). */
export class StormLab {
  private readonly lab = new Lab('storm', 'run');
  readonly sw = this.lab.ns('sw');
  readonly srv = this.lab.ns('srv');
  readonly rack = this.lab.ns('rack');

  /** Switch and appliance namespaces, the appliance's link. */
  create(): void {
    this.lab.addSwitch('sw');
    this.lab.addNs('srv');
    this.lab.plug('srv', 'eth0', `${STORM_NET.server}/${STORM_NET.prefix}`, { sw: 'sw' });
  }

  /** A fresh rack namespace with one macvlan per machine (made anew for every run: no address left over). */
  createRack(ports: RackPort[]): void {
    this.destroyRack();
    this.lab.addNs('rack');
    this.lab.plug('rack', 'uplink', null, { sw: 'sw' });
    // Each address answers ARP only on its own macvlan, and leaves by it (policy routes below).
    this.lab.exec('rack', 'sysctl', [
      '-q',
      '-w',
      'net.ipv4.conf.all.arp_ignore=1',
      'net.ipv4.conf.all.arp_announce=2',
      'net.ipv4.conf.default.arp_ignore=1',
      'net.ipv4.conf.default.arp_announce=2',
      'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0',
    ]);
    const lines: string[] = [];
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
    this.lab.removeNs('rack');
  }

  /** Kill what runs in the namespaces (by PID) and delete them. */
  destroy(): Promise<void> {
    return this.lab.cleanup();
  }
}
