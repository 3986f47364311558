/**
 * Issue 13 part 2, the proof: QEMU machines (BIOS and UEFI, TCG) PXE-boot the real microkernel from a
 * real `crashcart serve`, register, get bound to an `image-deploy` policy with the debian12 image built by
 * `crashcart image build debian12`, write it to their virtio disk (the UEFI guest has two disks: a 1 GiB one
 * the image does not fit and a 2 GiB one; the BIOS guest a 2 GiB and a 3 GiB one), reboot, get "boot the local
 * disk" from the appliance, boot Debian from the disk, and call back: `installed`. An SSH login with the
 * policy's key, which reads back the policy template's hostname, proves the NoCloud seed was applied. No
 * route leaves the namespace: offline.
 * Both guests have two disks of different sizes: the BIOS guest's smaller one fits (it is also BIOS drive
 * 0x80, which `sanboot` boots), the UEFI guest's first one is too small, so its firmware must walk past an
 * empty disk after iPXE's `exit 1` (docs/deploy.md "What boot the local disk does on real firmware").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node } from '../../contract/node.ts';
import type { DeployResult } from '../../contract/agent-tasks.ts';
import { Lab, type BridgedNet } from '../support/netns-lab.ts';
import { checkQemu, startGuest, stopGuest, type Guest, type GuestSpec } from './harness/qemu.ts';
import { allEvents, listNodes, readTail, startAppliance, stopAppliance, type Appliance, onBridge } from '../support/appliance-e2e.ts';
import { sshRun } from '../images/harness/disk-guest.ts';
import { ofType } from '../support/events.ts';
import { pollUntil } from '../support/wait-for.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MK_DIR = path.join(REPO, 'build/out/microkernel');
const IMAGE = path.join(REPO, 'build/out/images/debian12/disk.raw.zst');
const OUT_DIR = path.join(REPO, 'test-output', 'e2e-deploy');
const lab = new Lab('e2e', 'deploy');
const NS = lab.ns('net');
const SUBNET = '10.67.0';
const HTTP_PORT = 8026;
/** PXE + microkernel on TCG: about a minute each; CI is slower; one power cycle (below) included. */
const REGISTER_TIMEOUT_MS = 12 * 60_000;
/**
 * A guest whose console has been silent this long before it registered is power-cycled, once. Seen on this
 * machine under heavy load (load average above 20 on 2 cores): an OVMF guest's microkernel kernel went idle
 * right after its first console line and never printed again (QEMU at 3% CPU for minutes), the same in
 * other UEFI e2e runs; a power cycle is what an operator does, and the deploy under test starts after it.
 */
const SILENT_BOOT_MS = 4 * 60_000;
/** Write ~1 GiB, read it back, reboot, boot Debian with cloud-init on TCG. */
const INSTALL_TIMEOUT_MS = 25 * 60_000;
/** sshd is up before the callback (cloud-init's last stage); a loaded machine can still be slow to answer. */
const SSH_TIMEOUT_MS = 5 * 60_000;
const GIB = 1024 ** 3;

let dataDir = '';
let diskDir = '';
const GUESTS: GuestSpec[] = [
  {
    name: 'deploy-bios',
    firmware: 'bios',
    memoryMb: 1024,
    cpus: 1,
    serial: 'CC-DEPLOY-BIOS-1',
    uuid: '6b0e7d52-1f3a-4c6e-9d21-0a7c5e3b9f11',
    nics: [{ mac: '52:54:00:cd:0b:01', tap: '' }],
    disks: [],
  },
  {
    name: 'deploy-uefi',
    firmware: 'uefi',
    memoryMb: 1024,
    cpus: 1,
    serial: 'CC-DEPLOY-UEFI-2',
    uuid: '0c4d8e21-7a5b-4f90-8e13-b2d6a9f4c722',
    nics: [{ mac: '52:54:00:cd:0e:01', tap: '' }],
    disks: [],
    // A rack that boots over IPv4 only (the usual server NIC setting): without it OVMF also offers PXE and HTTP
    // boot over IPv6, which wait for DHCPv6 answers that never come before the firmware reaches the disks.
    extraArgs: ['-fw_cfg', 'name=opt/org.tianocore/IPv6Support,string=no'],
  },
];
/** Disk sizes per guest: the UEFI guest's first disk is too small for the image; the BIOS guest's smaller fits. */
const DISKS: Record<string, number[]> = { 'deploy-bios': [2 * GIB, 3 * GIB], 'deploy-uefi': [1 * GIB, 2 * GIB] };

let net: BridgedNet | null = null;
let app: Appliance | null = null;
const guests: Guest[] = [];
const log = (s: string) => console.log(`[deploy ${new Date().toISOString().slice(11, 19)}] ${s}`);
const norm = (s: string | null | undefined) => (s ?? '').toLowerCase();

const waitFor = <T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> =>
  pollUntil(what, timeoutMs, fn, { why: diagnostics, log, everyMs: 2000, reportMs: 30_000 });

function diagnostics(): string {
  const parts = guests.map((g) => `--- ${g.spec.name} serial (last 30 lines) ---\n${g.serial.tail(30)}`);
  if (app) parts.push(`--- appliance log (last 30 lines) ---\n${readTail(app.spec.logFile, 30)}`);
  return parts.join('\n');
}

beforeAll(async () => {
  checkQemu();
  for (const [f, fix] of [
    [path.join(MK_DIR, 'initrd.img'), 'npm run build:microkernel'],
    [path.join(MK_DIR, 'tools.img'), 'npm run build:microkernel (it writes tools.img next to initrd.img)'],
    [IMAGE, 'bash scripts/ensure-test-deps.sh (builds build/out/images/debian12 with crashcart image build debian12)'],
  ] as const)
    if (!existsSync(f)) throw new Error(`${f} is missing\n  fix: ${fix}`);
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'cc-deploy-data-'));
  diskDir = mkdtempSync(path.join(os.tmpdir(), 'cc-deploy-disks-'));
  mkdirSync(OUT_DIR, { recursive: true });
  // The policy's SSH key: the test logs in with it once Debian runs from the disk.
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'crashcart-deploy-e2e', '-f', path.join(dataDir, 'id_e2e')]);
  // The image goes in before the appliance starts (one writer per data dir).
  execFileSync(
    process.execPath,
    [path.join(REPO, 'bin/crashcart.mjs'), 'image', 'import', '--disk', IMAGE, '--name', 'debian12', '--data-dir', dataDir],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  net = lab.bridgedNet('net', `${SUBNET}.1`, 24);
  for (const g of GUESTS) {
    for (const n of g.nics) n.tap = lab.addTap(net);
    g.disks = DISKS[g.name]!.map((size, i) => {
      const file = path.join(diskDir, `${g.name}-${i}.raw`);
      writeFileSync(file, '');
      execFileSync('truncate', ['-s', String(size), file]);
      return { file, serial: `${g.name.toUpperCase()}-D${i}` };
    });
  }
  app = await startAppliance({
    repo: REPO,
    ...onBridge(net),
    dataDir,
    httpPort: HTTP_PORT,
    microkernelDir: MK_DIR,
    logFile: path.join(OUT_DIR, 'appliance.log'),
  });
  await app.api('POST', '/api/v1/policies', {
    name: 'deploy',
    task: 'image-deploy',
    image: 'debian12',
    hostname_template: 'deployed-${id}',
    ssh_keys: [readFileSync(path.join(dataDir, 'id_e2e.pub'), 'utf8').trim()],
    tags: [],
  });
  for (const spec of GUESTS)
    guests.push(startGuest(NS, spec, path.join(OUT_DIR, `${spec.name}.serial.log`), path.join(dataDir, `${spec.name}.vars.fd`)));
  log(`appliance up in ${NS}; ${guests.length} guests started on TCG`);
}, 300_000);

afterAll(async () => {
  for (const g of guests) await stopGuest(g);
  if (app && !app.exited) {
    const events = await allEvents(app).catch((e: Error) => [{ error: e.message }]);
    writeFileSync(path.join(OUT_DIR, 'events.json'), JSON.stringify(events, null, 1));
  }
  if (app) await stopAppliance(app);
  await lab.cleanup();
  for (const d of [dataDir, diskDir]) if (d) rmSync(d, { recursive: true, force: true });
  if (lab.leftovers().length) throw new Error(`namespace ${NS} is still there after cleanup\n  fix: ip netns del ${NS}`);
}, 60_000);

describe('image-deploy from the microkernel (QEMU, TCG, offline)', () => {
  it(
    'BIOS and UEFI guests write debian12 to their disk, boot it from the disk, call back and become installed',
    async () => {
      const a = app!;
      const figures: string[] = [];
      const settled = await Promise.allSettled(
        guests.map(async (first, slot) => {
          let g = first;
          let cycles = 0;
          const reg = await waitFor(`${g.spec.name} to register`, REGISTER_TIMEOUT_MS, async () => {
            if (g.exited) throw new Error(`${g.spec.name}: QEMU exited\n${diagnostics()}`);
            const n = (await listNodes(a)).find((x) => x.state === 'registered' && norm(x.serial) === norm(g.spec.serial));
            if (n) return n;
            const lastLine = g.serial.lines.at(-1)?.at ?? g.poweredOnAt;
            if (cycles === 0 && Date.now() - lastLine > SILENT_BOOT_MS) {
              cycles++;
              log(`${g.spec.name}: console silent for ${SILENT_BOOT_MS / 1000} s before registering; power-cycling it once`);
              await stopGuest(g);
              g = startGuest(
                NS,
                g.spec,
                path.join(OUT_DIR, `${g.spec.name}.cycle.serial.log`),
                path.join(dataDir, `${g.spec.name}.vars.fd`),
              );
              guests[slot] = g;
            }
            return undefined;
          });
          const boundAt = Date.now();
          await a.api('POST', '/api/v1/nodes/bind', { node_ids: [reg.id], policy: 'deploy' });
          log(`${g.spec.name}: node ${reg.id} registered and bound`);
          const done = await waitFor(`${g.spec.name} to become installed`, INSTALL_TIMEOUT_MS, async () => {
            if (g.exited) throw new Error(`${g.spec.name}: QEMU exited\n${diagnostics()}`);
            const n = (await listNodes(a)).find((x) => x.id === reg.id);
            if (n?.state === 'error') throw new Error(`${g.spec.name}: ${JSON.stringify(n.task?.failure)}\n${diagnostics()}`);
            return n?.state === 'installed' ? n : undefined;
          });
          const seconds = (Date.now() - boundAt) / 1000;
          return { g, node: done, seconds };
        }),
      );
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      const results = settled.map((r) => (r as PromiseFulfilledResult<{ g: Guest; node: Node; seconds: number }>).value);

      const events = await allEvents(a);
      const rawSize = (JSON.parse(readFileSync(path.join(path.dirname(IMAGE), 'manifest.json'), 'utf8')) as { raw: { size: number } }).raw
        .size;
      for (const { g, node, seconds } of results) {
        // The deploy record: the right disk, verified, seeded, done.
        expect(node.task?.status).toBe('succeeded');
        const res = node.task?.result as DeployResult;
        expect(res.kind).toBe('image-deploy');
        expect(res.seeded).toBe(true);
        // UEFI: vda (1 GiB) is too small; BIOS: vda (2 GiB) is the smaller of two that fit.
        const want = g.spec.firmware === 'uefi' ? 'vdb' : 'vda';
        expect(res.disk.name).toBe(want);
        expect(res.disk.reason).toMatch(/smallest disk of at least/);
        expect(res.written_bytes).toBe(rawSize);
        // The seed was applied: the policy's key logs in to the image's default user, the host name is the
        // policy template's, the firmware is the guest's, and growpart took the root filesystem to the disk.
        expect(node.hostname).toBe(`deployed-${node.id}`);
        expect(node.ip).toMatch(/^10\.67\.0\./);
        const out = await sshRun(
          NS,
          path.join(dataDir, 'id_e2e'),
          'debian',
          node.ip!,
          'hostname; if [ -d /sys/firmware/efi ]; then echo uefi; else echo bios; fi; findmnt -bno SIZE /',
          Date.now() + SSH_TIMEOUT_MS,
        );
        const [hostname, firmware, rootSize] = out.trim().split('\n');
        expect(hostname).toBe(`deployed-${node.id}`);
        expect(firmware).toBe(g.spec.firmware);
        expect(Number(rootSize)).toBeGreaterThan(rawSize);
        // After the write the node PXE-booted again and was sent to its disk.
        const written = events.find((e) => e.type === 'node.task_written' && e.node_id === node.id);
        expect(written).toBeDefined();
        const localBoot = ofType(events, 'node.boot').find((e) => e.node_id === node.id && e.seq > written!.seq);
        expect(localBoot?.data.action).toBe('local-disk');
        // UEFI: the firmware's own PXE got snponly.efi for that boot (ipxe.efi cannot hand the NIC back on exit).
        if (g.spec.firmware === 'uefi') expect(g.serial.find(/NBP filename is snponly\.efi/)).toBeDefined();
        figures.push(
          `| ${g.spec.firmware.toUpperCase()} (${g.spec.name}) | ${seconds.toFixed(0)} | ${(res.written_bytes / 1048576).toFixed(0)} MiB to ${res.disk.name} | ${res.write_mbps} | ${res.write_seconds.toFixed(1)} | ${res.verify_seconds.toFixed(1)} | ${res.resumes} |`,
        );
      }
      // The same image with dd on this machine (zstd -dc | dd, fsync'ed), for comparison.
      const ddFile = path.join(diskDir, 'dd.raw');
      const t0 = Date.now();
      execFileSync('sh', ['-c', `zstd -dc -q "${IMAGE}" | dd of="${ddFile}" bs=4M conv=fsync status=none`]);
      const ddSecs = (Date.now() - t0) / 1000;
      const ddMbps = statSync(ddFile).size / 1e6 / ddSecs;
      rmSync(ddFile);
      const table = [
        '| guest | bind -> installed (s) | written | write MB/s | write s | read-back s | resumes |',
        '|---|---|---|---|---|---|---|',
        ...figures,
        '',
        `zstd -dc | dd of=FILE bs=4M conv=fsync on the host: ${ddSecs.toFixed(1)} s, ${ddMbps.toFixed(1)} MB/s`,
        '',
      ].join('\n');
      writeFileSync(path.join(OUT_DIR, 'deploy-figures.md'), table);
      log(`\n${table}`);
    },
    REGISTER_TIMEOUT_MS + INSTALL_TIMEOUT_MS + 5 * 60_000,
  );
});
