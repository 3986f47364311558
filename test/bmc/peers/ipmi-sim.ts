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
import { spawn, type ChildProcess } from 'node:child_process';
import { freeTcpPort, freeUdpPort } from './net.ts';
import { guestArgs, guestFiles, killGuest, type GuestFiles } from './qemu-guest.ts';
import { requireProgram, sharedTool } from './tools.ts';

/** Firmware revision the simulated BMC reports (`mc_add` major 2, minor 0x14 BCD -> "2.14"). */
export const SIM_FIRMWARE = '2.14';

/** A running ipmi_sim. */
export interface IpmiSimPeer {
  lanPort: number;
  admin: { username: string; password: string };
  guest: GuestFiles;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

const random = (n: number) => randomBytes(n).toString('base64url').replace(/[-_]/g, 'x').slice(0, n);

/** Start ipmi_sim with its guest powered off. */
export async function startIpmiSim(): Promise<IpmiSimPeer> {
  sharedTool('ipmi-sim'); // the notes the config below follows
  const ipmiSim = requireProgram('ipmi_sim', 'openipmi');
  const qemu = requireProgram('qemu-system-x86_64', 'qemu-system-x86');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cc-bmc-${process.pid}-ipmi-`));
  const guest = guestFiles(dir, 'ipmi-guest');
  const [lanPort, kcsPort] = [await freeUdpPort(), await freeTcpPort()];
  // IPMI 2.0 passwords are at most 20 bytes (13.x "password up to 20 bytes"); plain letters keep the config quoting simple.
  const admin = { username: 'admin', password: `A${random(15)}` };
  // The guest's command line plus the BMC devices: the chardev reconnects, so the guest may start before ipmi_sim listens.
  const startcmd = [
    qemu,
    ...guestArgs(guest),
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
    `    addr 127.0.0.1 ${lanPort}`,
    '    priv_limit admin',
    ...['callback', 'user', 'operator', 'admin'].map((p) => `    allowed_auths_${p} ${auths}`),
    `    guid ${randomBytes(16).toString('hex')}`,
    '  endlan',
    `  serial kcs 127.0.0.1 ${kcsPort} codec VM`,
    `  startcmd "${startcmd}"`,
    '  startnow false',
    // Seconds ipmi_sim waits for the guest to go after a power-off request before it kills it.
    '  poweroff_wait 5',
    '  kill_wait 3',
    `  user 2 true "${admin.username}" "${admin.password}" admin 10 ${auths}`,
    '',
  ].join('\n');
  // The emulated BMC (mc_add IPMB-address device-id sdrs device-revision fw-major fw-minor support manufacturer product):
  // device id 0x20, firmware 2.14, chassis + SEL + SDR support, manufacturer 0x1291 (OpenIPMI's IANA number), product 0xcc01.
  const emu = [
    'mc_setbmc 0x20',
    'mc_add 0x20 0x20 no-device-sdrs 0x01 2 0x14 0x9f 0x1291 0xcc01 persist_sdr',
    'sel_enable 0x20 1000 0x0a',
    'mc_enable 0x20',
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'lan.conf'), conf, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'bmc.emu'), emu);
  fs.mkdirSync(path.join(dir, 'state'));
  const logFile = path.join(dir, 'ipmi_sim.log');
  const out = fs.openSync(logFile, 'w');
  const child: ChildProcess = spawn(
    ipmiSim,
    ['-c', path.join(dir, 'lan.conf'), '-f', path.join(dir, 'bmc.emu'), '-s', path.join(dir, 'state'), '-n'],
    {
      stdio: ['ignore', out, out],
    },
  );
  fs.closeSync(out);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
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
}
