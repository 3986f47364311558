/**
 * The arm64 microkernel runs (issue 16): build/out/microkernel-arm64 booted by Debian's AAVMF firmware in
 * `qemu-system-aarch64 -M virt -cpu cortex-a57` on TCG (the firmware loads -kernel through QEMU's fw_cfg
 * and starts the signed kernel's EFI stub, so Linux gets SMBIOS and EFI as on an arm64 server). The guest is
 * on QEMU's user network with restrict=on; the only thing it can reach is this test's HTTP server (through
 * a guestfwd relay), which plays the appliance: it checks the register and check-in bodies against the
 * contract, and answers the check-in with `poweroff`, which the agent must carry out. PXE on arm64 is the
 * serving side's test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from 'typebox/value';
import { CheckinRequestSchema, RegisterRequestSchema, type CheckinRequest, type RegisterRequest } from '../../contract/protocol.ts';
import { startDirect, stopDirect, waitForLine, type DirectGuest } from './harness/direct-boot.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const MK = path.join(REPO, 'build/out/microkernel-arm64');
const AAVMF_CODE = '/usr/share/AAVMF/AAVMF_CODE.fd';
const AAVMF_VARS = '/usr/share/AAVMF/AAVMF_VARS.fd';
/** Where the guest believes the appliance is; QEMU relays it to our server (10.0.2.0/24 is QEMU's user net). */
const GUEST_URL = 'http://10.0.2.100:8026';
const SERIAL = 'CC-ARM64-0001';
const MAC = '52:54:00:cc:a6:01';
const NODE_ID = 7;
const TOKEN = randomBytes(16).toString('hex');
const AGENT_TOKEN = randomBytes(16).toString('hex');
/** Firmware, kernel, zstd unpack, node and the facts on an emulated Cortex-A57 (about 1-2 min here; CI is slower). */
const REGISTER_TIMEOUT_MS = 8 * 60_000;

let tmp = '';
let server: http.Server | null = null;
let guest: DirectGuest | null = null;
const registers: unknown[] = [];
const checkins: unknown[] = [];
const seen: string[] = [];

/** The appliance's two agent routes, nothing else; bodies are kept for the assertions. */
function appliance(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen.push(`${req.method} ${req.url}`);
    let body: unknown = null;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      /* answered 400 below */
    }
    const config = { checkin_interval_s: 5, checkin_skew_s: 0, facts_exclude_pattern: '', server_url: GUEST_URL, log_level: 'info' };
    const send = (code: number, obj: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    if (req.method === 'POST' && req.url === '/api/v1/register' && body) {
      registers.push(body);
      send(200, { node_id: NODE_ID, agent_token: AGENT_TOKEN, config });
    } else if (req.method === 'POST' && req.url === '/api/v1/checkin' && body) {
      checkins.push(body);
      send(200, { command: 'poweroff', config });
    } else send(404, { statusCode: 404, code: 'CC_ERR_NOT_FOUND', error: 'Not Found', message: 'not an agent route' });
  });
}

beforeAll(async () => {
  for (const f of ['vmlinuz', 'initrd.img']) {
    if (!existsSync(path.join(MK, f))) throw new Error(`${path.join(MK, f)} is missing\n  fix: npm run build:microkernel -- --arch arm64`);
  }
  for (const f of [AAVMF_CODE, AAVMF_VARS]) if (!existsSync(f)) throw new Error(`${f} is missing\n  fix: apt-get install qemu-efi-aarch64`);
  try {
    execFileSync('qemu-system-aarch64', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('qemu-system-aarch64 is not installed\n  fix: apt-get install qemu-system-arm (or: bash scripts/ensure-test-deps.sh)');
  }
  tmp = mkdtempSync(path.join(os.tmpdir(), 'cc-arm64-'));
  const vars = path.join(tmp, 'AAVMF_VARS.fd');
  copyFileSync(AAVMF_VARS, vars);
  server = http.createServer(appliance);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const relay = `${process.execPath} ${path.join(HERE, 'harness/tcp-relay.mjs')} ${port}`;
  guest = startDirect({
    arch: 'arm64',
    kernel: path.join(MK, 'vmlinuz'),
    initrd: path.join(MK, 'initrd.img'),
    append: `crashcart.url=${GUEST_URL} crashcart.node=${NODE_ID} crashcart.token=${TOKEN} ipv6.disable=1 quiet`,
    memoryMb: 1536,
    cpus: 2,
    serialFile: path.join(tmp, 'serial.log'),
    serial: SERIAL,
    uefi: { code: AAVMF_CODE, vars },
    net: [
      '-netdev',
      `user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:8026-cmd:${relay}`,
      '-device',
      `virtio-net-pci,netdev=n0,mac=${MAC},romfile=`,
    ],
  });
}, 60_000);

afterAll(async () => {
  if (guest) {
    const log = path.join(REPO, 'test-output/e2e');
    mkdirSync(log, { recursive: true });
    guest.serial.poll();
    writeFileSync(
      path.join(log, 'arm64-serial.log'),
      guest.serial.lines.map((l) => `${new Date(l.at).toISOString()} ${l.text}`).join('\n') + '\n',
    );
    await stopDirect(guest);
  }
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('arm64 microkernel on qemu-system-aarch64 (virt, Cortex-A57, AAVMF)', () => {
  it(
    'boots to our init and starts the agent',
    async () => {
      const init = await waitForLine(guest!, /crashcart-init: started/, REGISTER_TIMEOUT_MS);
      const agent = await waitForLine(guest!, /crashcart-supervisor: starting agent/, REGISTER_TIMEOUT_MS);
      console.log(
        `[arm64] /init at ${((init.at - guest!.poweredOnAt) / 1000).toFixed(1)} s, agent at ${((agent.at - guest!.poweredOnAt) / 1000).toFixed(1)} s after power-on`,
      );
      // The agent starts beside the drivers and DHCP (rootfs/init), so the capture line may come after its line.
      await waitForLine(guest!, /crashcart-init: LLDP capture on: eth0/, REGISTER_TIMEOUT_MS);
      // tcpdump opened the NIC, dropped to its user and created its ring file (lldp-capture reports it).
      await waitForLine(guest!, /crashcart-lldp: (capturing|no capture) on eth0/, 60_000);
      expect(guest!.serial.find(/crashcart-lldp: capturing on eth0/), guest!.serial.tail(10)).toBeDefined();
    },
    REGISTER_TIMEOUT_MS + 60_000,
  );

  it(
    'registers with the contract body: aarch64, its SMBIOS serial, its MAC, the enrolment token',
    async () => {
      const start = Date.now();
      while (registers.length === 0 && Date.now() - start < REGISTER_TIMEOUT_MS) await new Promise((r) => setTimeout(r, 500));
      expect(registers.length, `no register; requests seen: ${seen.join(', ')}\n${guest!.serial.tail(30)}`).toBeGreaterThan(0);
      const body = registers[0] as RegisterRequest;
      expect(Value.Check(RegisterRequestSchema, body), JSON.stringify([...Value.Errors(RegisterRequestSchema, body)].slice(0, 3))).toBe(
        true,
      );
      expect(body.token).toBe(TOKEN);
      expect(body.node_id).toBe(NODE_ID);
      expect(body.serial).toBe(SERIAL);
      expect(body.macs.map((m) => m.toLowerCase())).toContain(MAC);
      expect(body.facts['hardwaremodel']).toBe('aarch64');
      expect(body.facts['architecture']).toBe('arm64');
      expect(body.inventory?.cpu.architecture).toBe('aarch64');
      console.log(`[arm64] registered ${((Date.now() - guest!.poweredOnAt) / 1000).toFixed(1)} s after power-on`);
    },
    REGISTER_TIMEOUT_MS + 60_000,
  );

  it('checks in with the agent token it was given and powers off when told to', async () => {
    const start = Date.now();
    while (checkins.length === 0 && Date.now() - start < 120_000) await new Promise((r) => setTimeout(r, 500));
    expect(checkins.length, `no check-in; requests seen: ${seen.join(', ')}`).toBeGreaterThan(0);
    const c = checkins[0] as CheckinRequest;
    expect(Value.Check(CheckinRequestSchema, c)).toBe(true);
    expect(c.node_id).toBe(NODE_ID);
    expect(c.agent_token).toBe(AGENT_TOKEN);
    // `poweroff -f` in the guest ends QEMU by itself: the agent ran the command it was given.
    const code = await Promise.race([guest!.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 120_000))]);
    expect(code, guest!.serial.tail(20)).toBe(0);
  }, 300_000);
});
