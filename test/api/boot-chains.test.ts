/**
 * The boot chains on a running appliance (issue 16): GRUB's configurations on the node plane and over the
 * core's TFTP names, the microkernel per architecture, `boot_chain` resolved node > tag > appliance, what
 * `auto` learns from a refused iPXE, and the chain recorded on the node.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess, type InProcessAppliance } from '../support/appliance.ts';
import { UBOOT_SIGHTING_MS, bootHooks } from '../../server/nodes/boot-hooks-impl.ts';
import { tftpVirtual } from '../../server/nodes/tftp-virtual.ts';
import type { CcEvent } from '../../contract/events.ts';

let a: InProcessAppliance;
let mkAmd64: string;
let mkArm64: string;
let mkBase: string;
const events: CcEvent[] = [];

const node = async (url: string) => {
  const r = await a.node.inject({ method: 'GET', url, remoteAddress: '10.66.0.120' });
  return { status: r.statusCode, text: r.body };
};
const admin = async (method: 'GET' | 'PATCH' | 'POST' | 'PUT', url: string, payload?: unknown) => {
  const r = await a.admin.inject({ method, url, payload: payload as object, headers: { authorization: `Bearer ${await a.token()}` } });
  return { status: r.statusCode, body: r.json() as Record<string, unknown> };
};
const byMac = (mac: string) => a.app.ctx.repo.byMacAddress(mac)!;

beforeAll(async () => {
  mkBase = path.join(os.tmpdir(), `cc-chains-mk-${process.pid}`);
  mkAmd64 = path.join(mkBase, 'microkernel');
  mkArm64 = path.join(mkBase, 'microkernel-arm64');
  mkdirSync(mkAmd64, { recursive: true });
  for (const f of ['vmlinuz', 'initrd.img']) writeFileSync(path.join(mkAmd64, f), `amd64 ${f}`);
  a = await startInProcess(['--microkernel', mkAmd64]);
  a.app.ctx.events.subscribe((e) => void events.push(e));
});
afterAll(async () => {
  await a?.stop();
  rmSync(mkBase, { recursive: true, force: true });
});

describe('GRUB over the node plane and TFTP', () => {
  it('serves the bootstrap and, for the name GRUB asks, the node’s microkernel configuration', async () => {
    const boot = await node('/grub/grub.cfg');
    expect(boot.status).toBe(200);
    expect(boot.text).toContain('configfile "(tftp)/grub/node/${net_default_mac}/${grub_cpu}/${cc_uuid}/${cc_serial}.cfg"');
    const cfg = await node('/grub/node/52:54:00:cc:5b:01/x86_64/-/CC-SB-1.cfg');
    expect(cfg.status).toBe(200);
    expect(cfg.text).toContain("linux '(tftp)/mk/vmlinuz'");
    expect(cfg.text).toContain("'BOOTIF=01-52-54-00-cc-5b-01'");
    const token = /'crashcart\.token=([^']+)'/.exec(cfg.text)![1]!;
    expect(token.length).toBeGreaterThan(16);
    const n = byMac('52:54:00:cc:5b:01');
    expect(n).toMatchObject({ state: 'booting-microkernel', serial: 'CC-SB-1', arch: 'x86_64', platform: 'efi', boot_mode: 'uefi' });
    expect(events.find((e) => e.type === 'node.boot' && e.node_id === n.id)?.data).toMatchObject({ action: 'microkernel', loader: 'grub' });
    // GRUB reads the same name over TFTP: the core renders it (a fresh token each time, like /boot).
    const v = await tftpVirtual(a.app.ctx, '10.66.0.120', 'grub/node/52:54:00:cc:5b:01/x86_64/-/CC-SB-1.cfg');
    expect(v && 'data' in v && Buffer.from(v.data).toString()).toContain("linux '(tftp)/mk/vmlinuz'");
    expect(await tftpVirtual(a.app.ctx, '10.66.0.120', 'mk/vmlinuz')).toEqual({ dir: mkAmd64, name: 'vmlinuz' });
    expect(await tftpVirtual(a.app.ctx, '10.66.0.120', 'mk/passwd')).toBeNull();
    expect(await tftpVirtual(a.app.ctx, '10.66.0.120', 'undionly.kpxe')).toBeNull();
  });

  it('refuses names that are not a node configuration, without creating anything', async () => {
    const before = a.app.ctx.repo.all().length;
    expect((await node("/grub/node/52:54:00:cc:5b:01/x86_64/-/a'b.cfg")).status).toBe(404);
    expect((await node('/grub/node/zz/x86_64/-/-.cfg')).status).toBe(400);
    expect(a.app.ctx.repo.all().length).toBe(before);
  });
});

describe('the microkernel of each architecture', () => {
  it('arm64 without its microkernel: a configuration that says which is missing; with it: /mk/arm64/ over TFTP and HTTP', async () => {
    const missing = await node('/grub/node/52:54:00:cc:a6:01/arm64/-/-.cfg');
    expect(missing.text).toContain('no arm64 discovery microkernel is installed');
    expect((await node('/mk/arm64/vmlinuz')).status).toBe(503);
    mkdirSync(mkArm64, { recursive: true });
    for (const f of ['vmlinuz', 'initrd.img']) writeFileSync(path.join(mkArm64, f), `arm64 ${f}`);
    const cfg = await node('/grub/node/52:54:00:cc:a6:01/arm64/-/-.cfg');
    expect(cfg.text).toContain("linux '(tftp)/mk/arm64/vmlinuz'");
    expect(cfg.text).toContain("initrd '(tftp)/mk/arm64/initrd.img'");
    expect((await node('/mk/arm64/vmlinuz')).text).toBe('arm64 vmlinuz');
    expect((await node('/mk/vmlinuz')).text).toBe('amd64 vmlinuz');
    expect(await tftpVirtual(a.app.ctx, '10.66.0.121', 'mk/arm64/initrd.img')).toEqual({ dir: mkArm64, name: 'initrd.img' });
    // iPXE's ${buildarch} picks the folder the same way.
    const ipxe = await node('/boot?mac=52:54:00:cc:a6:02&arch=arm64&platform=efi');
    expect(ipxe.text).toContain(`kernel --name vmlinuz ${a.nodeUrl}/mk/arm64/vmlinuz`);
    expect((await node('/boot?mac=52:54:00:cc:a6:03&arch=riscv64&platform=efi')).text).toContain('no riscv64 discovery microkernel');
  });
});

describe('the kernel iPXE boots (vmlinuz-zstd) and the one GRUB boots (vmlinuz)', () => {
  it('iPXE gets vmlinuz-zstd when the manifest lists it and it is there; GRUB keeps the signed vmlinuz; else vmlinuz', async () => {
    const manifest = (files: Record<string, object>) =>
      writeFileSync(path.join(mkAmd64, 'manifest.json'), JSON.stringify({ version: `zstd-${Object.keys(files).length}`, files }));
    const ipxe = async (mac: string) => (await node(`/boot?mac=${mac}&arch=i386&platform=pcbios`)).text;
    try {
      // Listed, but not there (a folder copied without it): iPXE boots vmlinuz, as before.
      manifest({ vmlinuz: {}, 'vmlinuz-zstd': {}, 'initrd.img': {} });
      expect(await ipxe('52:54:00:cc:e1:01')).toContain(`kernel --name vmlinuz ${a.nodeUrl}/mk/vmlinuz initrd=initrd.img`);
      writeFileSync(path.join(mkAmd64, 'vmlinuz-zstd'), 'amd64 vmlinuz-zstd');
      // The manifest is re-read when it changes (an import replaces it with the folder).
      manifest({ vmlinuz: {}, 'vmlinuz-zstd': { bytes: 18 }, 'initrd.img': {} });
      const script = await ipxe('52:54:00:cc:e1:02');
      expect(script).toContain(`kernel --name vmlinuz ${a.nodeUrl}/mk/vmlinuz-zstd initrd=initrd.img`);
      expect(script).toContain(`initrd --name initrd.img ${a.nodeUrl}/mk/initrd.img`);
      expect((await node('/mk/vmlinuz-zstd')).text).toBe('amd64 vmlinuz-zstd');
      // Secure Boot's GRUB (shim verifies what it loads) is given Debian's signed file, never the rewrapped one.
      const grub = await node('/grub/node/52:54:00:cc:e1:03/x86_64/-/-.cfg');
      expect(grub.text).toContain("linux '(tftp)/mk/vmlinuz'");
      expect(grub.text).not.toContain('vmlinuz-zstd');
      // Odd spellings of the file name are not files of the microkernel.
      for (const bad of ['/mk/vmlinuz-zstd%2f..%2fvmlinuz', '/mk/vmlinuz-ZSTD', '/mk/vmlinuz-zstd.', '/mk/..%2fvmlinuz-zstd'])
        expect((await node(bad)).status, bad).toBe(400);
      // Not listed: vmlinuz again, whatever lies in the folder.
      manifest({ vmlinuz: {}, 'initrd.img': {} });
      expect(await ipxe('52:54:00:cc:e1:04')).toContain(`${a.nodeUrl}/mk/vmlinuz initrd=initrd.img`);
    } finally {
      rmSync(path.join(mkAmd64, 'manifest.json'), { force: true });
      rmSync(path.join(mkAmd64, 'vmlinuz-zstd'), { force: true });
    }
  });
});

describe('downloads name their node', () => {
  it('by the address the node last booted from; another address names none', async () => {
    const boot = (mac: string, remoteAddress: string) =>
      a.node.inject({ method: 'GET', url: `/boot?mac=${mac}&arch=i386&platform=pcbios`, remoteAddress });
    expect((await boot('52:54:00:cc:d1:01', '10.66.0.141')).statusCode).toBe(200);
    expect((await boot('52:54:00:cc:d1:02', '10.66.0.142')).statusCode).toBe(200);
    const second = byMac('52:54:00:cc:d1:02');
    expect(second.ip).toBe('10.66.0.142');
    const transfer = async (remoteAddress: string) => {
      const from = events.length;
      const r = await a.node.inject({ method: 'GET', url: '/mk/vmlinuz', remoteAddress });
      expect(r.body).toBe('amd64 vmlinuz');
      await new Promise((done) => setTimeout(done, 5)); // the event is emitted beside the answer
      return events.slice(from).find((e) => e.type === 'http.transfer' && (e.data as { ip?: string }).ip === remoteAddress);
    };
    expect((await transfer('10.66.0.142'))?.node_id).toBe(second.id);
    expect((await transfer('10.66.0.141'))?.node_id).toBe(byMac('52:54:00:cc:d1:01').id);
    const stranger = await transfer('10.66.0.199');
    expect(stranger).toBeDefined();
    expect(stranger?.node_id).toBeNull();
  });
});

describe('boot_chain: node > tag > appliance', () => {
  it('resolves the most specific layer, and two tags that disagree give the chain that boots more machines', async () => {
    const hooks = bootHooks(a.app.ctx);
    const mac = '52:54:00:cc:5c:01';
    await hooks.sawBoot({ mac, arch: 7, vendorClass: 'PXEClient:Arch:00007:UNDI:003000' });
    const id = byMac(mac).id;
    const chain = async () => ((await admin('GET', `/api/v1/nodes/${id}`)).body as { boot_chain_effective: string }).boot_chain_effective;
    expect(await chain()).toBe('auto (appliance) -> ipxe until refused');
    expect((await hooks.loaderPrefsFor(mac)).secureChain).toBe(false);
    expect((await admin('PATCH', '/api/v1/settings', { boot_chain: 'ipxe' })).status).toBe(200);
    expect(await chain()).toBe('ipxe (appliance)');
    expect((await admin('POST', '/api/v1/tags', { name: 'sb', rule: ['=', 'secure_boot', true], boot_chain: 'shim' })).status).toBe(201);
    expect((await admin('POST', '/api/v1/tags', { name: 'dell', rule: ['=', 'manufacturer', 'Dell'], boot_chain: 'ipxe' })).status).toBe(
      201,
    );
    byMac(mac).tags = ['dell', 'sb'];
    expect(await chain()).toBe('shim (tag sb; tags dell set another value)');
    expect(await hooks.loaderPrefsFor(mac)).toEqual({ efiLoader: 'snponly.efi', secureChain: true, uboot: false });
    expect((await admin('PATCH', `/api/v1/nodes/${id}`, { boot_chain: 'ipxe', efi_loader: 'snponly.efi' })).status).toBe(200);
    expect(await chain()).toBe('ipxe (node)');
    expect(await hooks.loaderPrefsFor(mac)).toEqual({ efiLoader: 'snponly.efi', secureChain: false, uboot: false });
    const tag = await admin('GET', '/api/v1/tags/sb');
    expect(tag.body).toMatchObject({ boot_chain: 'shim', efi_loader: null });
    await admin('PATCH', '/api/v1/settings', { boot_chain: 'auto' });
  });
});

/** The TFTP server's event for a complete snponly.efi fetch (the default loader) by this node (what auto chain selection reads). */
function fetchedIpxe(nodeId: number): void {
  a.app.ctx.events.emit('tftp.finish', {
    node_id: nodeId,
    message: 'TFTP snponly.efi',
    data: {
      file: 'snponly.efi',
      requested: 'snponly.efi',
      client: '10.66.0.130',
      size: 1024,
      blksize: 1468,
      windowsize: 1,
      options: {},
      bytes: 1024,
      duration_ms: 5,
      retransmits: 0,
      reason: 'complete',
    },
  });
}

describe('boot_chain auto', () => {
  it('switches a node to shim once its firmware fetched iPXE and came back without running it', async () => {
    const hooks = bootHooks(a.app.ctx);
    const mac = '52:54:00:cc:5d:01';
    const fw = { mac, arch: 7, vendorClass: 'PXEClient:Arch:00007:UNDI:003000' };
    await hooks.sawBoot(fw);
    const n = byMac(mac);
    // The firmware fetched snponly.efi (the TFTP server's event), then came back: refused (Secure Boot).
    fetchedIpxe(n.id);
    expect(n.ipxe_fetched_at).not.toBeNull();
    expect((await hooks.loaderPrefsFor(mac)).secureChain).toBe(false);
    await hooks.sawBoot(fw);
    expect(n.auto_chain).toBe('shim');
    expect((await hooks.loaderPrefsFor(mac)).secureChain).toBe(true);
    const ev = events.find((e) => e.type === 'node.chain' && e.node_id === n.id)!;
    expect(ev.message).toMatch(/fetched iPXE at .* but never ran it: .*Secure Boot.*shim\/GRUB chain/);
    const view = await admin('GET', `/api/v1/nodes/${n.id}`);
    expect(view.body.boot_chain_effective).toBe('auto (appliance) -> shim (iPXE was refused, or Secure Boot is on)');
  });

  it('keeps iPXE when the iPXE it fetched ran (its own DHCP), and never switches a node set to ipxe', async () => {
    const hooks = bootHooks(a.app.ctx);
    const mac = '52:54:00:cc:5d:02';
    const fw = { mac, arch: 7, vendorClass: 'PXEClient:Arch:00007:UNDI:003000' };
    await hooks.sawBoot(fw);
    const n = byMac(mac);
    fetchedIpxe(n.id);
    await new Promise((r) => setTimeout(r, 5));
    await hooks.sawBoot({ mac, arch: 7, userClass: 'iPXE', ipxe: true });
    await hooks.sawBoot(fw);
    expect(n.auto_chain ?? null).toBeNull();
    // An HTTP-boot fetch of iPXE counts too; a node pinned to ipxe is left alone.
    n.boot_chain = 'ipxe';
    a.app.ctx.events.emit('http.transfer', {
      node_id: n.id,
      message: 'HTTP /ipxe/ipxe.efi',
      data: { url: '/ipxe/ipxe.efi', ip: '10.66.0.130', bytes: null },
    });
    await new Promise((r) => setTimeout(r, 5));
    await hooks.sawBoot({ mac, arch: 16, vendorClass: 'HTTPClient:Arch:00016:UNDI:003000' });
    expect(n.auto_chain ?? null).toBeNull();
  });
});

describe('the chain each node took', () => {
  it('is recorded from the DHCP answers and shown on the node; U-Boot firmware is remembered for the boot', async () => {
    const hooks = bootHooks(a.app.ctx);
    const mac = '52:54:00:cc:5e:01';
    await hooks.sawBoot({ mac, arch: 22, vendorClass: 'U-Boot.armv8' });
    const n = byMac(mac);
    expect(await hooks.loaderPrefsFor(mac)).toMatchObject({ uboot: true });
    const offer = (file: string, arch: number, vendor_class: string) =>
      a.app.ctx.events.emit('dhcp.offer', {
        node_id: n.id,
        mac,
        message: 'OFFER',
        data: { xid: 1, from: '0.0.0.0', ciaddr: null, giaddr: null, arch, vendor_class, user_class: null, guid: null, ipxe: false, file },
      });
    offer('grubaa64.efi', 22, 'U-Boot.armv8');
    expect(n.last_chain).toBe('u-boot');
    offer('shimx64.efi', 7, 'PXEClient:Arch:00007:UNDI:003000');
    expect(n.last_chain).toBe('shim-grub');
    offer(`${a.nodeUrl}/ipxe/ipxe.efi`, 16, 'HTTPClient:Arch:00016:UNDI:003000');
    expect(n.last_chain).toBe('http-boot');
    offer(`${a.nodeUrl}/boot.ipxe`, 0, 'PXEClient');
    expect(n.last_chain).toBe('http-boot'); // the iPXE script continues the chain, it starts none
    offer('undionly.kpxe', 0, 'PXEClient:Arch:00000:UNDI:002001');
    expect((await admin('GET', `/api/v1/nodes/${n.id}`)).body.last_chain).toBe('bios-ipxe');
  });
});

describe('what a DHCP sighting may change on a record (docs/identity.md 5)', () => {
  it('U-Boot (93 = 22) decides the boot in progress only, and is not written to the record', async () => {
    let t = a.app.ctx.now().getTime();
    const hooks = bootHooks({ ...a.app.ctx, now: () => new Date(t) });
    const mac = '52:54:00:cc:5f:01';
    // One forged U-Boot packet with an arm64 UEFI machine's MAC: its next boot (93 = 11) gets shim again.
    await hooks.sawBoot({ mac, arch: 11, vendorClass: 'PXEClient:Arch:00011:UNDI:003000' });
    await hooks.sawBoot({ mac, arch: 22, vendorClass: 'U-Boot.armv8' });
    expect((await hooks.loaderPrefsFor(mac)).uboot).toBe(true);
    expect(byMac(mac).firmware ?? null).toBeNull();
    t += UBOOT_SIGHTING_MS;
    expect((await hooks.loaderPrefsFor(mac)).uboot).toBe(false);
  });

  it('never overwrites the firmware mode, and switches a registered node to shim only through its settings', async () => {
    const hooks = bootHooks(a.app.ctx);
    const mac = '52:54:00:cc:5f:02';
    const fw = { mac, arch: 7, vendorClass: 'PXEClient:Arch:00007:UNDI:003000' };
    await hooks.sawBoot(fw);
    const n = byMac(mac);
    expect(n.boot_mode).toBe('uefi');
    await hooks.sawBoot({ mac, arch: 0, vendorClass: 'PXEClient:Arch:00000:UNDI:002001' });
    expect(n.boot_mode).toBe('uefi');
    // Registered, then a fetched iPXE and a firmware packet (anyone's to forge): the chain stays.
    n.registered_at = a.app.ctx.now().toISOString();
    fetchedIpxe(n.id);
    expect(n.ipxe_fetched_at).not.toBeNull();
    await hooks.sawBoot(fw);
    expect(n.auto_chain ?? null).toBeNull();
    expect((await hooks.loaderPrefsFor(mac)).secureChain).toBe(false);
  });
});

describe('loaders over HTTP (/ipxe/)', () => {
  it('serves what `crashcart prepare` put in the data dir first, the shipped copy second, nothing outside either', async () => {
    const loaders = path.join(a.app.ctx.config.dataDir, 'loaders');
    mkdirSync(loaders, { recursive: true });
    // PROVENANCE.md is tracked in resources/ipxe/: the data dir's copy of the same name must win.
    const shipped = await node('/ipxe/PROVENANCE.md');
    expect(shipped.status).toBe(200);
    writeFileSync(path.join(loaders, 'PROVENANCE.md'), 'data-dir copy');
    writeFileSync(path.join(loaders, 'only-here.efi'), 'operator loader');
    expect((await node('/ipxe/PROVENANCE.md')).text).toBe('data-dir copy');
    expect((await node('/ipxe/only-here.efi')).text).toBe('operator loader');
    rmSync(path.join(loaders, 'PROVENANCE.md'));
    expect((await node('/ipxe/PROVENANCE.md')).text).toBe(shipped.text);
    expect((await node('/ipxe/missing.efi')).status).toBe(404);
    expect((await node('/ipxe/..%2F..%2Fconfig.json')).status).toBe(404);
  });
});
