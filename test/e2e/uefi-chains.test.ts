/**
 * UEFI chains beyond plain PXE through the real appliance (issue 16): three guests against one `crashcart
 * serve`, never more than two at once.
 * - Secure Boot x64: OVMF with Microsoft's keys enrolled and Secure Boot enforced PXE-boots with the default
 *   `boot_chain: auto`. Power-on 1: the appliance offers iPXE, the firmware downloads it and refuses it
 *   (unsigned), which is what makes this test able to fail. Power-on 2: the appliance has learned the refusal
 *   and offers the signed chain, shim -> GRUB -> the Debian-signed microkernel, which registers and reports
 *   `secure_boot=true` (read from efivarfs, under the kernel's lockdown).
 * - UEFI HTTP boot x64: OVMF with its PXE switched off through fw_cfg (`opt/org.tianocore/IPv4PXESupport`,
 *   OvmfPkg/RUNTIME_CONFIG.md) has only its "UEFI HTTPv4" entry left; it gets iPXE by URL and registers
 *   without one TFTP packet (a capture on the link counts UDP/69 from its MAC), with `secure_boot=false`.
 * - arm64 PXE, started once the HTTP boot guest has registered: `qemu-system-aarch64 -M virt -cpu
 *   cortex-a57` with Debian's AAVMF PXE-boots shimaa64 -> grubaa64 -> the per-node GRUB configuration -> the
 *   arm64 microkernel (`/mk/arm64/`), all over TFTP, and registers with its SMBIOS serial as aarch64.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node } from '../../contract/node.ts';
import type { CcEvent } from '../../contract/events.ts';
import { Lab, type BridgedNet } from '../support/netns-lab.ts';
import { checkQemu, checkQemuArm64, startGuest, stopGuest, type Guest, type GuestSpec } from './harness/qemu.ts';
import {
  allEvents,
  listNodes,
  readTail,
  startAppliance,
  stopAppliance,
  type Appliance,
  onBridge,
  requireMicrokernel,
} from '../support/appliance-e2e.ts';
import { bootPhases, phasesMarkdown } from './harness/timings.ts';
import { ofType } from '../support/events.ts';
import { pollUntil } from '../support/wait-for.ts';
import { DEFAULT_RTO } from '../../server/tftp/rto.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MK_DIR = path.join(REPO, 'build/out/microkernel');
/** The arm64 microkernel sits beside the amd64 one; serve finds it there (server/boot/microkernel-select.ts). */
const MK_ARM64_DIR = path.join(REPO, 'build/out/microkernel-arm64');
const LOG_DIR = path.join(REPO, 'test-output', 'e2e-uefi-chains');
const lab = new Lab('e2e', 'uc');
const NS = lab.ns('net');
const SUBNET = '10.67.0';
/** The firmware's words when Secure Boot stops an unsigned loader (OVMF's boot manager on the console). */
const REFUSED = /failed to (load|start) Boot\d+ "UEFI PXEv4[^\n]*: (Access Denied|Security Violation)/;
/** Firmware, shim, GRUB fetching the microkernel over TFTP, kernel and agent on TCG (minutes here; CI is slower). */
const REGISTER_TIMEOUT_MS = 12 * 60_000;
const REFUSE_TIMEOUT_MS = 4 * 60_000;

const SB_SPEC: GuestSpec = {
  name: 'e2e-uefi-sb',
  firmware: 'uefi',
  secureBoot: true,
  memoryMb: 1280,
  cpus: 1,
  serial: 'CC-E2E-SB-0003',
  uuid: '5b0c7d21-3e8f-4a6b-9c1d-2f4e6a8b0c03',
  nics: [{ mac: '52:54:00:cc:5b:01', tap: '' }],
};

const HTTP_SPEC: GuestSpec = {
  name: 'e2e-uefi-http',
  firmware: 'uefi',
  // No PXE and no IPv6 (HTTPv6 would be tried first otherwise): the firmware's HTTPv4 boot entry is all that is left.
  extraArgs: [
    '-fw_cfg',
    'name=opt/org.tianocore/IPv4PXESupport,string=no',
    '-fw_cfg',
    'name=opt/org.tianocore/IPv6PXESupport,string=no',
    '-fw_cfg',
    'name=opt/org.tianocore/IPv6Support,string=no',
  ],
  memoryMb: 1280,
  cpus: 1,
  serial: 'CC-E2E-HTTP-0004',
  uuid: '9d2e4f60-7a1b-4c3d-8e5f-0a1b2c3d4e04',
  nics: [{ mac: '52:54:00:cc:68:01', tap: '' }],
};

/** Debian's arm64 vmlinuz is an uncompressed 32 MiB Image: GRUB holds it and the initrd in memory at once. */
const ARM_SPEC: GuestSpec = {
  name: 'e2e-arm64-pxe',
  arch: 'arm64',
  firmware: 'uefi',
  memoryMb: 1536,
  cpus: 1,
  serial: 'CC-E2E-ARM64-0005',
  uuid: '3f6a8c10-2b4d-4e6f-8a0b-1c2d3e4f5a05',
  nics: [{ mac: '52:54:00:cc:a6:05', tap: '' }],
};

/** Guests that are meant to be running (a QEMU that exits while listed here is a failure). */
const live = new Set<Guest>();
const all: Guest[] = [];
let net: BridgedNet | null = null;
let app: Appliance | null = null;
let dataDir = '';
const children: ChildProcess[] = [];
/** tcpdump's lines for TFTP requests (UDP/69) from the HTTP boot guest. */
let httpGuestTftp = '';
let httpGuest: Guest | null = null;
let armGuest: Guest | null = null;
/** Settles when the HTTP boot guest has registered (then it is stopped and the arm64 guest started). */
let httpRegistered: Promise<Node> | null = null;
/** Settles once the arm64 guest is running. */
let armStarted: Promise<Guest> | null = null;
const timings: string[] = [];

const log = (s: string) => console.log(`[e2e-uefi ${new Date().toISOString().slice(11, 19)}] ${s}`);

function diagnostics(): string {
  const parts = all.map((g) => `--- ${g.spec.name} serial (last 30 lines) ---\n${g.serial.tail(30)}`);
  if (app) parts.push(`--- appliance log (last 30 lines) ---\n${readTail(app.spec.logFile, 30)}`);
  return parts.join('\n');
}

function start(spec: GuestSpec, serialName: string, varsName: string): Guest {
  const g = startGuest(NS, spec, path.join(LOG_DIR, serialName), path.join(dataDir, varsName));
  live.add(g);
  all.push(g);
  return g;
}

async function stop(g: Guest): Promise<void> {
  live.delete(g);
  await stopGuest(g);
}

const waitFor = <T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> =>
  pollUntil(what, timeoutMs, fn, {
    why: diagnostics,
    abort: () => {
      const dead = [...live].find((g) => g.exited);
      return dead ? `${dead.spec.name}: QEMU exited` : undefined;
    },
  });

const registered = (a: Appliance, spec: GuestSpec) => async () =>
  (await listNodes(a)).find((n) => n.state === 'registered' && n.serial?.toLowerCase() === spec.serial.toLowerCase());

/**
 * File names (last path part) the node fetched completely over TFTP. A transfer whose final ACK never came is a
 * `tftp.finish` too (reason `final-ack-unseen`, server/tftp/final-ack.ts): GRUB boots the kernel straight after the
 * last block, and under TCG its ACK can still be queued in the firmware's driver when it stops.
 */
const tftpFetched = (events: CcEvent[], nodeId: number) =>
  events
    .filter((e) => e.type === 'tftp.finish' && e.node_id === nodeId)
    .map((e) => String((e.data as { file?: unknown }).file ?? ''))
    .map((f) => f.slice(f.lastIndexOf('/') + 1));

/**
 * The events once every one of `files` is in `tftpFetched` for the node. The machine can register before the last
 * transfer's finish is recorded: when GRUB boots without sending the final ACK, the server learns it only when it
 * gives up retransmitting the final window, at most (retries + 1) x the retransmission ceiling later (server/tftp/rto.ts,
 * 36 s with the defaults), and a fast kernel and agent register sooner (the arm64 guest did, 21 s after its
 * initrd's first block).
 */
const FINAL_ACK_GIVE_UP_MS = (DEFAULT_RTO.maxRetries + 1) * DEFAULT_RTO.maxMs + 10_000;
const eventsOnceFetched = (a: Appliance, nodeId: number, files: readonly string[]): Promise<CcEvent[]> =>
  waitFor(`node ${nodeId}'s TFTP transfers of ${files.join(', ')} to be recorded`, FINAL_ACK_GIVE_UP_MS, async () => {
    const events = await allEvents(a);
    const got = tftpFetched(events, nodeId);
    return files.every((f) => got.includes(f)) ? events : undefined;
  });

type Facts = { facts: Record<string, unknown>; inventory: { firmware: { secure_boot?: boolean }; cpu: { architecture: string } } | null };

beforeAll(async () => {
  checkQemu();
  checkQemuArm64();
  for (const dir of [MK_DIR, MK_ARM64_DIR]) requireMicrokernel(dir);
  for (const f of ['shimx64.efi', 'grubx64.efi', 'snponly.efi', 'shimaa64.efi', 'grubaa64.efi'])
    if (!existsSync(path.join(REPO, 'resources/ipxe', f)))
      throw new Error(`resources/ipxe/${f} is missing\n  fix: bash scripts/ensure-test-deps.sh`);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'cc-e2euc-data-'));
  mkdirSync(LOG_DIR, { recursive: true });
  net = lab.bridgedNet('net', `${SUBNET}.1`, 24);
  for (const n of [...SB_SPEC.nics, ...HTTP_SPEC.nics, ...ARM_SPEC.nics]) n.tap = lab.addTap(net);
  app = await startAppliance({
    repo: REPO,
    ...onBridge(net),
    dataDir,
    httpPort: 8026,
    microkernelDir: MK_DIR,
    logFile: path.join(LOG_DIR, 'appliance.log'),
  });
  // Every non-DHCP UDP packet as a pcap next to the logs (TFTP of shim, GRUB, its configuration and the microkernel).
  const pcap = path.join(LOG_DIR, 'udp.pcap');
  children.push(
    spawn(
      'ip',
      ['netns', 'exec', NS, 'tcpdump', '-U', '-i', net.bridge, '-n', '-s', '200', '-w', pcap, 'udp and not port 67 and not port 68'],
      {
        stdio: 'ignore',
      },
    ),
  );
  const tftpWatch = spawn(
    'ip',
    ['netns', 'exec', NS, 'tcpdump', '-l', '-n', '-e', '-i', net.bridge, `udp port 69 and ether src ${HTTP_SPEC.nics[0]!.mac}`],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  children.push(tftpWatch);
  tftpWatch.stdout?.on('data', (d: Buffer) => (httpGuestTftp += d.toString('latin1')));
}, 180_000);

afterAll(async () => {
  for (const g of all) await stop(g);
  for (const c of children) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
  if (app && !app.exited) {
    const events = await allEvents(app).catch((e: Error) => [{ error: e.message }]);
    writeFileSync(path.join(LOG_DIR, 'events.json'), JSON.stringify(events, null, 1));
  }
  if (app) await stopAppliance(app);
  await lab.cleanup();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (timings.length > 0) writeFileSync(path.join(REPO, 'test-output', 'e2e-uefi-chains-timings.md'), `${timings.join('\n\n')}\n`);
  if (lab.leftovers().length) throw new Error(`namespace ${NS} is still there after cleanup\n  fix: ip netns del ${NS}`);
}, 60_000);

describe('Secure Boot x64, UEFI HTTP boot and arm64 PXE (QEMU, TCG)', () => {
  it(
    'the Secure Boot firmware refuses iPXE; after a power cycle the signed chain registers it with secure_boot=true',
    async () => {
      const a = app!;
      const mac = SB_SPEC.nics[0]!.mac;
      // The HTTP boot guest runs alongside (second test); once it has registered it makes room for the arm64 guest.
      httpGuest = start(HTTP_SPEC, 'http.serial.log', 'vars-http.fd');
      httpRegistered = waitFor('the HTTP boot guest to register', REGISTER_TIMEOUT_MS, registered(a, HTTP_SPEC));
      armStarted = httpRegistered.then(async () => {
        await stop(httpGuest!);
        armGuest = start(ARM_SPEC, 'arm64.serial.log', 'vars-arm64.fd');
        return armGuest;
      });
      // Failures surface in the tests that await them; these keep Node from calling them unhandled meanwhile.
      httpRegistered.catch(() => undefined);
      armStarted.catch(() => undefined);

      // Power-on 1: the appliance does not know the machine; auto starts with iPXE, which Secure Boot refuses.
      let guest = start(SB_SPEC, 'sb-boot1.serial.log', 'vars-sb1.fd');
      const refused = await waitFor('the firmware to refuse snponly.efi (iPXE)', REFUSE_TIMEOUT_MS, async () => guest.serial.find(REFUSED));
      const refusedS = (refused.at - guest.poweredOnAt) / 1000;
      log(`Secure Boot power-on 1: firmware refused iPXE after ${refusedS.toFixed(1)} s: ${refused.text.trim()}`);
      let events = await allEvents(a);
      // The appliance's default UEFI loader (default_efi_loader) is snponly.efi.
      expect(events.some((e) => e.type === 'tftp.finish' && /snponly\.efi/.test(String(e.data.file ?? e.message)))).toBe(true);
      expect(guest.serial.find(/iPXE/)).toBeUndefined(); // it never ran
      await stop(guest);

      // Power-on 2: same machine (a fresh copy of the same variable store), same MAC.
      guest = start(SB_SPEC, 'sb-boot2.serial.log', 'vars-sb2.fd');
      const node = await waitFor<Node>('the Secure Boot guest to register', REGISTER_TIMEOUT_MS, registered(a, SB_SPEC));
      const secs = (Date.parse(node.registered_at ?? '') - guest.poweredOnAt) / 1000; // the registration, not when this poll saw it
      log(`Secure Boot power-on 2: registered as node ${node.id} after ${secs.toFixed(1)} s`);

      const chain = ['shimx64.efi', 'grubx64.efi', 'grub.cfg', 'vmlinuz', 'initrd.img'];
      events = await eventsOnceFetched(a, node.id, chain);
      const switched = ofType(events, 'node.chain').find((e) => e.node_id === node.id);
      expect(switched?.data.reason).toBe('ipxe-refused');
      expect(node.last_chain).toBe('shim-grub');
      expect(node.boot_chain_effective).toMatch(/auto .*-> shim/);
      expect(tftpFetched(events, node.id)).toEqual(expect.arrayContaining(chain));
      const { facts, inventory } = await a.api<Facts>('GET', `/api/v1/nodes/${node.id}/facts`);
      // The kernel is in lockdown (Secure Boot); the agent still reads the SecureBoot variable from efivarfs.
      expect(guest.serial.find(/crashcart-init: efivarfs mounted/), guest.serial.tail(40)).toBeDefined();
      expect(facts.secure_boot).toBe(true);
      expect(inventory?.firmware.secure_boot).toBe(true);
      expect(node.boot_mac?.toLowerCase()).toBe(mac);
      await stop(guest);

      timings.push(
        phasesMarkdown([
          {
            label: `UEFI Secure Boot, shim/GRUB, power-on 2 (${SB_SPEC.name}, -m ${SB_SPEC.memoryMb} -smp 1)`,
            phases: bootPhases(guest, node.id, events),
          },
        ]),
        `Secure Boot: power-on 1 -> firmware refuses iPXE: ${refusedS.toFixed(1)} s; power-on 2 -> registered: ${secs.toFixed(1)} s.`,
      );
    },
    REFUSE_TIMEOUT_MS + REGISTER_TIMEOUT_MS + FINAL_ACK_GIVE_UP_MS + 60_000,
  );

  it(
    'the HTTP boot guest registers through iPXE fetched by URL, without a single TFTP packet, with secure_boot=false',
    async () => {
      const a = app!;
      const g = httpGuest!;
      const node = await httpRegistered!;
      const secs = (Date.parse(node.registered_at ?? '') - g.poweredOnAt) / 1000;
      log(`HTTP boot guest registered as node ${node.id} after ${secs.toFixed(1)} s (power-on)`);
      const events = await allEvents(a);
      const mine = events.filter((e) => e.node_id === node.id || e.mac?.toLowerCase() === HTTP_SPEC.nics[0]!.mac);
      const offer = [...ofType(mine, 'dhcp.offer'), ...ofType(mine, 'dhcp.ack')]
        .sort((x, y) => x.seq - y.seq)
        .find((e) => /\/ipxe\/(ipxe|snponly)\.efi$/.test(e.data.file ?? ''));
      expect(offer?.data.vendor_class).toMatch(/^HTTPClient/);
      expect(node.last_chain).toBe('http-boot');
      expect(ofType(mine, 'http.transfer').some((e) => 'url' in e.data && /^\/ipxe\/(ipxe|snponly)\.efi$/.test(e.data.url))).toBe(true);
      expect(mine.filter((e) => e.type.startsWith('tftp.'))).toEqual([]);
      // The capture ran the whole time: not one TFTP request from this machine's MAC on the link.
      expect(httpGuestTftp).toBe('');
      // Plain OVMF (no keys enrolled): efivarfs holds SecureBoot = 0.
      const { facts, inventory } = await a.api<Facts>('GET', `/api/v1/nodes/${node.id}/facts`);
      expect(facts.secure_boot).toBe(false);
      expect(inventory?.firmware.secure_boot).toBe(false);
      timings.push(
        phasesMarkdown([
          { label: `UEFI HTTP boot (${HTTP_SPEC.name}, -m ${HTTP_SPEC.memoryMb} -smp 1)`, phases: bootPhases(g, node.id, events) },
        ]),
        `HTTP boot: power-on -> registered: ${secs.toFixed(1)} s (booted alongside the Secure Boot guest).`,
      );
    },
    REGISTER_TIMEOUT_MS + 60_000,
  );

  it(
    'the arm64 guest PXE-boots shimaa64 -> grubaa64 -> the arm64 microkernel and registers as aarch64 with its SMBIOS serial',
    async () => {
      const a = app!;
      const g = await armStarted!;
      const node = await waitFor<Node>('the arm64 guest to register', REGISTER_TIMEOUT_MS, registered(a, ARM_SPEC));
      const secs = (Date.parse(node.registered_at ?? '') - g.poweredOnAt) / 1000;
      log(`arm64 guest registered as node ${node.id} after ${secs.toFixed(1)} s (power-on)`);
      const chain = ['shimaa64.efi', 'grubaa64.efi', 'grub.cfg', 'vmlinuz', 'initrd.img'];
      const events = await eventsOnceFetched(a, node.id, chain);
      const mine = events.filter((e) => e.node_id === node.id || e.mac?.toLowerCase() === ARM_SPEC.nics[0]!.mac);
      // DHCP option 93 = 11 (RFC 4578 2.1: EFI arm64) was answered with shim.
      expect(mine.some((e) => e.type === 'dhcp.ack' && e.data.arch === 11 && /shimaa64\.efi$/.test(String(e.data.file ?? '')))).toBe(true);
      expect(tftpFetched(events, node.id)).toEqual(expect.arrayContaining(chain));
      // GRUB named its CPU in the per-node configuration's path, and got the arm64 folder's microkernel.
      const files = mine.filter((e) => e.type === 'tftp.finish').map((e) => String(e.data.file ?? ''));
      expect(files.some((f) => /grub\/node\/[^/]+\/arm64\//.test(f))).toBe(true);
      expect(files.some((f) => /mk\/arm64\/initrd\.img$/.test(f))).toBe(true);
      expect(node.last_chain).toBe('shim-grub');
      expect(node.serial).toBe(ARM_SPEC.serial);
      expect(node.boot_mac?.toLowerCase()).toBe(ARM_SPEC.nics[0]!.mac);
      const { facts, inventory } = await a.api<Facts>('GET', `/api/v1/nodes/${node.id}/facts`);
      expect(inventory?.cpu.architecture).toBe('aarch64');
      expect(facts.hardwaremodel).toBe('aarch64');
      // AAVMF without keys enrolled: Secure Boot off, read from efivarfs like on x86.
      expect(facts.secure_boot).toBe(false);
      timings.push(
        phasesMarkdown([
          {
            label: `arm64 PXE, shim/GRUB (${ARM_SPEC.name}, virt cortex-a57, -m ${ARM_SPEC.memoryMb} -smp 1)`,
            phases: bootPhases(g, node.id, events),
          },
        ]),
        `arm64 PXE: power-on -> registered: ${secs.toFixed(1)} s (booted alongside the Secure Boot guest's power-on 2).`,
      );
      console.log(timings.join('\n\n'));
    },
    REFUSE_TIMEOUT_MS + 2 * REGISTER_TIMEOUT_MS + FINAL_ACK_GIVE_UP_MS + 60_000,
  );
});
