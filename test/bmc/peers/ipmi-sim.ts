/**
 * A real IPMI BMC for tests: OpenIPMI's ipmi_sim (Debian `openipmi`) serving RMCP+ on a loopback UDP port,
 * with a QEMU guest as its chassis. ipmi_sim starts the guest with `startcmd` on power-on and talks to it
 * over QEMU's `ipmi-bmc-extern` chardev (VM codec) for power-off, reset and the ACPI power button; the
 * guest sees a KCS interface (`isa-ipmi-kcs`). Config written here from what ipmi_sim's documentation and
 * shared/tools/ipmi-sim show; everything is stopped by PID.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { freeTcpPort, freeUdpPort, waitFor } from './net.ts';
import { guestArgs, guestFiles, killGuest, type GuestFiles } from './qemu-guest.ts';
import { requireProgram, sharedTool } from './tools.ts';
import { fruEmuCommand } from './fru-data.ts';
import { smbiosBytesFromUuid } from '../../../server/bmc/ipmi/system-guid.ts';

/** Firmware revision the simulated BMC reports (`mc_add` major 2, minor 0x14 BCD -> "2.14"). */
export const SIM_FIRMWARE = '2.14';

/** How to run the simulated BMC; every field has the loopback default of the driver tests. */
export interface IpmiSimOptions {
  /** Address and UDP port of its RMCP+ (LAN) interface; default 127.0.0.1 and a free port. */
  addr?: string;
  port?: number;
  /** Run ipmi_sim (and so the guest its startcmd starts) inside this network namespace. */
  netns?: string;
  /** What `lan print` reports (served by a lan_config_program); default none, so the BMC reports 0.0.0.0. */
  lanAddress?: { ip: string; netmask: string; mac: string };
  /** The chassis: the guest's QEMU arguments (without the BMC devices); default the small disk-less guest. */
  guestArgs?: string[];
  /** The machine's SMBIOS UUID, answered to Get System GUID in SMBIOS byte order; default a random GUID. */
  systemUuid?: string;
  /** The product serial of FRU device 0 (`fru print 0`); default no FRU data. */
  fruSerial?: string;
  /** Users beside `admin` (slot 2), e.g. one that in-band enrolment must never take over. */
  users?: { id: number; name: string; password: string; priv: 'user' | 'operator' | 'admin' }[];
}

/** A running ipmi_sim. */
export interface IpmiSimPeer {
  addr: string;
  lanPort: number;
  admin: { username: string; password: string };
  guest: GuestFiles;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

const random = (n: number) => randomBytes(n).toString('base64url').replace(/[-_]/g, 'x').slice(0, n);

/** How many times `startIpmiSim` picks ports before it gives up. */
const PORT_TRIES = 5;

/**
 * Start ipmi_sim with its guest powered off. On loopback its two ports were free a moment before it binds them: when
 * another process takes one first, ipmi_sim exits ("Address already in use") and is started again on fresh ports.
 */
export async function startIpmiSim(o: IpmiSimOptions = {}): Promise<IpmiSimPeer> {
  for (let attempt = 1; ; attempt++) {
    // In a namespace of its own nothing else listens: fixed ports are free there.
    const lanPort = o.port ?? (o.netns ? 623 : await freeUdpPort());
    const kcsPort = o.netns ? 9002 : await freeTcpPort();
    const { peer, child } = spawnIpmiSim(o, lanPort, kcsPort);
    if (o.netns) return peer;
    const ready = await waitFor(`ipmi_sim on UDP ${lanPort} and TCP ${kcsPort}`, () => {
      if (child.exitCode !== null) return 'exited';
      return bindsBoth(child.pid!, lanPort, kcsPort) ? 'ready' : undefined;
    }).catch(async (e: unknown) => {
      await peer.stop();
      throw e;
    });
    if (ready === 'ready') return peer;
    const log = peer.log();
    await peer.stop();
    if (attempt >= PORT_TRIES || !log.includes('Address already in use')) throw new Error(`ipmi_sim exited (${child.exitCode}):\n${log}`);
  }
}

/** Does process `pid` hold both UDP `udpPort` and a TCP listener on `tcpPort` (ss shows our own processes' sockets)? */
function bindsBoth(pid: number, udpPort: number, tcpPort: number): boolean {
  const mine = execFileSync('ss', ['-Hlnutp'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(`pid=${pid},`));
  const has = (proto: string, port: number) => mine.some((l) => l.startsWith(proto) && new RegExp(`:${port}\\s`).test(l));
  return has('udp', udpPort) && has('tcp', tcpPort);
}

/** Write the config for these ports and start ipmi_sim (not waiting for it). */
function spawnIpmiSim(o: IpmiSimOptions, lanPort: number, kcsPort: number): { peer: IpmiSimPeer; child: ChildProcess } {
  sharedTool('ipmi-sim'); // the notes the config below follows
  const ipmiSim = requireProgram('ipmi_sim', 'openipmi');
  const qemu = requireProgram('qemu-system-x86_64', 'qemu-system-x86');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cc-bmc-${process.pid}-ipmi-`));
  const guest = guestFiles(dir, 'ipmi-guest');
  const addr = o.addr ?? '127.0.0.1';
  // IPMI 2.0 passwords are at most 20 bytes (13.x "password up to 20 bytes"); plain letters keep the config quoting simple.
  const admin = { username: 'admin', password: `A${random(15)}` };
  // The guest's command line plus the BMC devices: the chardev reconnects, so the guest may start before ipmi_sim listens.
  const startcmd = [
    qemu,
    ...(o.guestArgs ?? guestArgs(guest)),
    '-chardev',
    `socket,id=ipmi0,host=127.0.0.1,port=${kcsPort},reconnect=10`,
    '-device',
    'ipmi-bmc-extern,chardev=ipmi0,id=bmc0',
    '-device',
    'isa-ipmi-kcs,bmc=bmc0',
  ].join(' ');
  const auths = 'none md2 md5 straight';
  const conf = [
    `name "cc-bmc-${process.pid}"`,
    'set_working_mc 0x20',
    '  startlan 1',
    `    addr ${addr} ${lanPort}`,
    ...(o.lanAddress ? [`    lan_config_program "${path.join(dir, 'lan-config.sh')} bmc0"`] : []),
    '    priv_limit admin',
    ...['callback', 'user', 'operator', 'admin'].map((p) => `    allowed_auths_${p} ${auths}`),
    // ipmi_sim answers Get System GUID with the LAN guid (checked: mc_set_guid does not change that answer).
    `    guid ${o.systemUuid ? Buffer.from(smbiosBytesFromUuid(o.systemUuid)).toString('hex') : randomBytes(16).toString('hex')}`,
    '  endlan',
    `  serial kcs 127.0.0.1 ${kcsPort} codec VM`,
    `  startcmd "${startcmd}"`,
    '  startnow false',
    // Seconds ipmi_sim waits for the guest to go after a power-off request before it kills it.
    '  poweroff_wait 5',
    '  kill_wait 3',
    `  user 2 true "${admin.username}" "${admin.password}" admin 10 ${auths}`,
    ...(o.users ?? []).map((u) => `  user ${u.id} true "${u.name}" "${u.password}" ${u.priv} 10 ${auths}`),
    '',
  ].join('\n');
  if (o.lanAddress) {
    // ipmi_sim asks this program for the LAN parameters (`PROG DEVICE get NAME...`) and reads `NAME:VALUE` lines.
    const v: Record<string, string> = {
      ip_addr: o.lanAddress.ip,
      ip_addr_src: 'static',
      mac_addr: o.lanAddress.mac,
      subnet_mask: o.lanAddress.netmask,
      default_gw_ip_addr: '0.0.0.0',
      default_gw_mac_addr: '00:00:00:00:00:00',
      backup_gw_ip_addr: '0.0.0.0',
      backup_gw_mac_addr: '00:00:00:00:00:00',
    };
    const cases = Object.entries(v).map(([k, x]) => `    ${k}) echo "${k}:${x}" ;;`);
    const script = [
      '#!/bin/sh',
      '[ "$2" = get ] || exit 0',
      'shift 2',
      'for p in "$@"; do',
      '  case $p in',
      ...cases,
      '    *) exit 1 ;;',
      '  esac',
      'done',
      '',
    ];
    fs.writeFileSync(path.join(dir, 'lan-config.sh'), script.join('\n'), { mode: 0o755 });
  }
  // The emulated BMC (mc_add IPMB-address device-id sdrs device-revision fw-major fw-minor support manufacturer product):
  // device id 0x20, firmware 2.14, chassis + SEL + SDR support, manufacturer 0x1291 (OpenIPMI's IANA number), product 0xcc01.
  const emu = [
    'mc_setbmc 0x20',
    'mc_add 0x20 0x20 no-device-sdrs 0x01 2 0x14 0x9f 0x1291 0xcc01 persist_sdr',
    'sel_enable 0x20 1000 0x0a',
    ...(o.fruSerial ? [fruEmuCommand({ manufacturer: 'Crashcart-E2E', name: 'ipmi-guest', serial: o.fruSerial })] : []),
    'mc_enable 0x20',
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'lan.conf'), conf, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'bmc.emu'), emu);
  fs.mkdirSync(path.join(dir, 'state'));
  const logFile = path.join(dir, 'ipmi_sim.log');
  const out = fs.openSync(logFile, 'w');
  const simArgs = [ipmiSim, '-c', path.join(dir, 'lan.conf'), '-f', path.join(dir, 'bmc.emu'), '-s', path.join(dir, 'state'), '-n'];
  // `ip netns exec` execs the program, so the pid is ipmi_sim's either way.
  const [cmd, ...args] = o.netns ? ['ip', 'netns', 'exec', o.netns, ...simArgs] : simArgs;
  const child: ChildProcess = spawn(cmd!, args, { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const peer: IpmiSimPeer = {
    addr,
    lanPort,
    admin,
    guest,
    dir,
    log: () => fs.readFileSync(logFile, 'utf8'),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      killGuest(guest);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return { peer, child };
}
