/**
 * Issue 12's "done when": a fresh clone (git clone of this checkout: no resources/ipxe loaders, no build/out)
 * runs `crashcart prepare` and then `crashcart serve` serves a BIOS and a UEFI QEMU guest to registration with
 * no further step; a bundle exported from that data dir and imported into an empty one serves a guest again.
 * prepare and serve run in a mount namespace where /boot and /usr/lib/ipxe are empty tmpfs, so neither the
 * host's `ipxe` package nor anything in /boot can be what the guests get.
 *
 * To stay within CI time the microkernel build reuses the checkout's build cache (`--build-cache
 * build/out/cache`: the Debian .debs and the pinned Node runtime scripts/ensure-test-deps.sh fetched) and the
 * loaders come from a copy of its loader cache (the pinned .debs; every file is still checked against its
 * sha256 pin). The build itself runs for real inside the clone, under the shared build lock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Node } from '../../contract/node.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { freshClone } from '../support/fresh-clone.ts';
import { tmpDir } from '../support/appliance.ts';
import { Lab, type BridgedNet } from '../support/netns-lab.ts';
import { checkQemu, startGuest, stopGuest, type Guest, type GuestSpec } from './harness/qemu.ts';
import { allEvents, listNodes, readTail, startAppliance, stopAppliance, type Appliance, onBridge } from '../support/appliance-e2e.ts';

const lab = new Lab('e2e', 'field');
const NS = lab.ns('net');
const SUBNET = '10.67.0';
const OUT_DIR = path.join(REPO_ROOT, 'test-output', 'field-ready');
/** Both guests on TCG on a shared 2-core machine (boot.test.ts measures ~30-60 s each). */
const REGISTER_TIMEOUT_MS = 8 * 60_000;
/** prepare: the loaders from cache plus a real microkernel build (about 1.5 min on a warm cache, more under load). */
const PREPARE_TIMEOUT_MS = 20 * 60_000;

/** Run under a private mount namespace with /boot and /usr/lib/ipxe emptied (a machine without the ipxe package). */
const HIDE = [
  'unshare',
  '--mount',
  '--propagation',
  'private',
  'sh',
  '-c',
  'mount -t tmpfs cc-empty /boot && { [ ! -d /usr/lib/ipxe ] || mount -t tmpfs cc-empty /usr/lib/ipxe; } && exec "$@"',
  'sh',
];

const guestSpec = (name: string, firmware: 'bios' | 'uefi', n: number): GuestSpec => ({
  name,
  firmware,
  memoryMb: firmware === 'bios' ? 1024 : 1280,
  cpus: 1,
  serial: `CC-FIELD-${firmware.toUpperCase()}-${n}`,
  uuid: `5e1d0c0a-0000-4000-8000-00000000000${n}`,
  nics: [{ mac: `52:54:00:cc:f${n}:01`, tap: '' }],
});

let clone = '';
let net: BridgedNet | null = null;
let app: Appliance | null = null;
const guests: Guest[] = [];
const log = (s: string) => console.log(`[field-ready ${new Date().toISOString().slice(11, 19)}] ${s}`);

/** Serve `dataDir` from the clone in the namespace, hidden /boot, no --microkernel. */
async function serve(dataDir: string, name: string): Promise<Appliance> {
  return startAppliance({
    repo: clone,
    ...onBridge(net!),
    dataDir,
    httpPort: 8026,
    logFile: path.join(OUT_DIR, `${name}.log`),
    wrap: HIDE,
  });
}

/** Boot `specs` against the running appliance until each is registered; returns their nodes. */
async function bootToRegistration(a: Appliance, specs: GuestSpec[]): Promise<Node[]> {
  const mine: Guest[] = [];
  for (const spec of specs) {
    spec.nics[0]!.tap = lab.addTap(net!);
    const g = startGuest(NS, spec, path.join(OUT_DIR, `${spec.name}.serial.log`), path.join(OUT_DIR, `${spec.name}.vars.fd`));
    mine.push(g);
    guests.push(g);
  }
  const start = Date.now();
  const found = new Map<string, Node>();
  while (found.size < mine.length) {
    for (const g of mine) {
      if (g.exited) throw new Error(`${g.spec.name}: QEMU exited\n${g.serial.tail(25)}`);
    }
    for (const n of await listNodes(a)) {
      const g = mine.find((x) => n.state === 'registered' && (n.serial ?? '').toLowerCase() === x.spec.serial.toLowerCase());
      if (g && !found.has(g.spec.name)) {
        found.set(g.spec.name, n);
        log(`${g.spec.name} registered as node ${n.id} after ${Math.round((Date.now() - g.poweredOnAt) / 1000)} s`);
      }
    }
    if (Date.now() - start > REGISTER_TIMEOUT_MS) {
      const tails = mine.map((g) => `--- ${g.spec.name} serial ---\n${g.serial.tail(25)}`).join('\n');
      throw new Error(
        `guests did not register within ${REGISTER_TIMEOUT_MS / 60_000} min\n${tails}\n--- appliance ---\n${readTail(a.spec.logFile, 30)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
  for (const g of mine) await stopGuest(g);
  return mine.map((g) => found.get(g.spec.name)!);
}

/** The clone's CLI under the hidden mount namespace; throws with its output unless it exits 0. */
function cli(args: string[], timeoutMs: number, lock = false): string {
  const cmd = [...HIDE, ...(lock ? ['flock', '/tmp/cc-build.lock'] : []), process.execPath, path.join(clone, 'bin/crashcart.mjs'), ...args];
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: clone, encoding: 'utf8', timeout: timeoutMs });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`crashcart ${args.join(' ')} exited ${r.status ?? r.signal}:\n${out.slice(-4000)}`);
  return out;
}

beforeAll(async () => {
  checkQemu();
  for (const need of ['unshare', 'flock'])
    if (spawnSync('sh', ['-c', `command -v ${need}`]).status !== 0)
      throw new Error(`${need} is missing\n  fix: apt-get install util-linux`);
  const loaderCache = path.join(REPO_ROOT, 'build', 'out', 'cache', 'loaders');
  if (!fs.existsSync(loaderCache)) throw new Error(`${loaderCache} is missing\n  fix: bash scripts/ensure-test-deps.sh`);
  fs.mkdirSync(OUT_DIR, { recursive: true });
  clone = await freshClone('cc-field-clone-');
  net = lab.bridgedNet('net', `${SUBNET}.1`, 24);
}, 120_000);

afterAll(async () => {
  for (const g of guests) await stopGuest(g);
  if (app) await stopAppliance(app);
  await lab.cleanup();
  if (lab.leftovers().length) throw new Error(`namespace ${NS} is still there after cleanup\n  fix: ip netns del ${NS}`);
}, 60_000);

describe('field-ready: a fresh clone prepares, then serves BIOS and UEFI guests (QEMU, TCG)', () => {
  let dataDir = '';

  it(
    'prepare fills an empty data dir: every loader by its pin and the amd64 microkernel built in the clone',
    async () => {
      // What a fresh clone has: no loaders of its own, no build output, and this namespace hides the host's.
      expect(fs.existsSync(path.join(clone, 'resources', 'ipxe', 'undionly.kpxe'))).toBe(false);
      expect(fs.existsSync(path.join(clone, 'build', 'out'))).toBe(false);
      expect(execFileSync(HIDE[0]!, [...HIDE.slice(1), 'ls', '-A', '/boot', '/usr/lib/ipxe'], { encoding: 'utf8' }).trim()).toBe(
        '/boot:\n\n/usr/lib/ipxe:',
      );
      dataDir = await tmpDir('cc-field-data-');
      const cache = await tmpDir('cc-field-cache-');
      fs.cpSync(path.join(REPO_ROOT, 'build', 'out', 'cache', 'loaders'), path.join(cache, 'loaders'), { recursive: true });
      const out = cli(
        ['prepare', '--data-dir', dataDir, '--cache', cache, '--build-cache', path.join(REPO_ROOT, 'build', 'out', 'cache')],
        PREPARE_TIMEOUT_MS,
        true,
      );
      fs.writeFileSync(path.join(OUT_DIR, 'prepare.txt'), out);
      expect(out).toMatch(/^\s+microkernel amd64\s+installed\s.*\bbuilt\b/m);
      expect(out).toMatch(/^Ready:/m);
      for (const f of ['undionly.kpxe', 'ipxe.efi']) expect(fs.statSync(path.join(dataDir, 'loaders', f)).size).toBeGreaterThan(0);
      expect(fs.statSync(path.join(dataDir, 'microkernel', 'amd64', 'initrd.img')).size).toBeGreaterThan(1 << 20);
      // A rerun checks and sends nothing.
      const again = cli(['prepare', '--data-dir', dataDir, '--cache', cache], 5 * 60_000);
      expect(again).toMatch(/^\s+microkernel amd64\s+present\s/m);
      expect(again).not.toMatch(/\s(installed|failed|unavailable)\s{2,}/);
    },
    PREPARE_TIMEOUT_MS + 6 * 60_000,
  );

  it(
    'serve from the clone (no --microkernel, no other step) brings a BIOS and a UEFI guest to registration',
    async () => {
      expect(dataDir).not.toBe('');
      app = await serve(dataDir, 'serve-prepared');
      const nodes = await bootToRegistration(app, [guestSpec('field-bios', 'bios', 1), guestSpec('field-uefi', 'uefi', 2)]);
      expect(nodes.map((n) => n.state)).toEqual(['registered', 'registered']);
      // What each firmware fetched came from the data dir: the loaders it asked for were not missing.
      const events = await allEvents(app);
      expect(events.filter((e) => e.type === 'boot.loader_missing')).toEqual([]);
      await stopAppliance(app);
      app = null;
    },
    REGISTER_TIMEOUT_MS + 3 * 60_000,
  );

  it(
    'a bundle exported from that data dir and imported into an empty one serves a guest',
    async () => {
      expect(dataDir).not.toBe('');
      const bundle = path.join(await tmpDir('cc-field-bundle-'), 'rack.tar');
      cli(['bundle', 'export', bundle, '--data-dir', dataDir], 5 * 60_000);
      const fresh = await tmpDir('cc-field-import-');
      cli(['bundle', 'import', bundle, '--data-dir', fresh], 5 * 60_000);
      expect(fs.readdirSync(path.join(fresh, 'loaders')).sort()).toEqual(fs.readdirSync(path.join(dataDir, 'loaders')).sort());
      app = await serve(fresh, 'serve-imported');
      const [node] = await bootToRegistration(app, [guestSpec('field-bundle', 'bios', 3)]);
      expect(node!.state).toBe('registered');
      await stopAppliance(app);
      app = null;
    },
    REGISTER_TIMEOUT_MS + 6 * 60_000,
  );
});
