/**
 * A foreign DHCP server (dnsmasq) makes full mode refuse; proxy mode then
 * works beside it with real UEFI firmware (OVMF under QEMU) going through
 * port 4011 to TFTP; in full mode SeaBIOS with QEMU's iPXE ROM is sent to
 * the boot script URL. The kit's DHCP-plugin-alone mode records TFTP and HTTP requests.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Lab } from '../support/netns-lab.ts';
import { waitFor } from '../support/wait-for.ts';
import { DhcpPluginProc, type DhcpPluginArgs } from '../support/dhcp-plugin.ts';
import { requirePinnedLoaders } from '../support/pinned-loaders.ts';

const lab = new Lab('dhcp', 'fw');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-dhcp-fw-'));
const SERVER = '10.9.0.1';
const base = (dataDir: string, mode: 'full' | 'proxy'): DhcpPluginArgs => ({
  iface: 'p0',
  ip: SERVER,
  prefix: 24,
  mode,
  range: { start: '10.9.0.100', end: '10.9.0.120' },
  force: false,
  dataDir: path.join(tmp, dataDir),
  bootServers: true,
  options: { probeMs: 1500, reprobeMs: 0 },
});

/** Start QEMU on a fresh tap in the switch namespace; returns a stop function. */
function qemu(name: string, args: string[]): () => void {
  lab.exec('sw', 'ip', ['tuntap', 'add', name, 'mode', 'tap']);
  lab.exec('sw', 'ip', ['link', 'set', name, 'master', 'br0']);
  lab.exec('sw', 'ip', ['link', 'set', name, 'up']);
  // TCG on purpose: nested KVM is unreliable on CI runners (it fails with an internal error here).
  const c = lab.spawnIn('sw', 'qemu-system-x86_64', [
    '-m',
    '256',
    '-nographic',
    '-nodefaults',
    '-no-reboot',
    '-serial',
    'null',
    '-monitor',
    'none',
    '-netdev',
    `tap,id=n0,ifname=${name},script=no,downscript=no`,
    ...args,
  ]);
  return () => {
    if (c.pid && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
  };
}

beforeAll(() => {
  // The real TFTP server serves Debian's loaders from resources/ipxe, which ensure-test-deps fills (nothing is fetched here).
  requirePinnedLoaders(['ipxe.efi']);
  lab.addSwitch();
  lab.addNs('app');
  lab.addNs('dns');
  lab.plug('app', 'p0', `${SERVER}/24`);
  lab.plug('dns', 'f0', '10.9.0.2/24');
});

let running: DhcpPluginProc | null = null;
/** Start the DHCP plugin; a failed test leaves nothing running for the next one. */
function start(args: DhcpPluginArgs): DhcpPluginProc {
  running = new DhcpPluginProc(lab, 'app', args);
  return running;
}
afterEach(async () => {
  const r = running;
  running = null;
  await r?.kill();
});

afterAll(async () => {
  await lab.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe.sequential('firmware, and a second DHCP server on the link', () => {
  it('full mode refuses to start beside dnsmasq, naming it and suggesting proxy', async () => {
    lab.spawnIn('dns', 'dnsmasq', [
      '--no-daemon',
      '--conf-file=/dev/null',
      '--port=0',
      '--interface=f0',
      '--bind-interfaces',
      '--dhcp-range=10.9.0.150,10.9.0.160,1h',
      `--dhcp-leasefile=${path.join(tmp, 'dnsmasq.leases')}`,
      `--pid-file=${path.join(tmp, 'dnsmasq.pid')}`,
    ]);
    await waitFor('dnsmasq listening', 10_000, () => lab.exec('dns', 'ss', ['-lun']).includes(':67 '));
    // The default probe time: dnsmasq pings an address before offering it, which delays its first OFFER.
    const app = start({ ...base('refuse', 'full'), options: { reprobeMs: 0 } });
    const l = await app.started();
    if (l.type === 'ready') await app.stop();
    if (process.env.CC_DEBUG) console.log(JSON.stringify(app.lines), app.stderr.join(''), lab.exec('dns', 'ss', ['-lun']));
    expect(l.type).toBe('error');
    expect(l.code).toBe('CC_ERR_FOREIGN_DHCP');
    expect(String(l.message)).toMatch(/server 10\.9\.0\.2 .*offered 10\.9\.0\.1(5\d|60)/);
    expect(String(l.fix)).toContain('--dhcp proxy');
  });

  it('proxy mode works beside it: OVMF gets its address from dnsmasq, asks us on 4011, loads ipxe.efi by TFTP, and iPXE gets the boot script', async () => {
    const app = start({ ...base('proxy', 'proxy'), realTftp: true });
    expect((await app.started()).type).toBe('ready');
    const vars = path.join(tmp, 'OVMF_VARS.fd');
    fs.copyFileSync('/usr/share/OVMF/OVMF_VARS.fd', vars);
    const stop = qemu('tapu0', [
      '-machine',
      'q35',
      '-drive',
      'if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd',
      '-drive',
      `if=pflash,format=raw,file=${vars}`,
      '-device',
      'virtio-net-pci,netdev=n0,mac=52:54:00:cc:00:07,romfile=,bootindex=1',
    ]);
    try {
      const t = await waitFor('TFTP request from OVMF', 120_000, () => app.lines.find((x) => x.type === 'tftp'));
      expect(t.file).toBe('ipxe.efi');
      expect(String(t.from)).toMatch(/^10\.9\.0\.1(5\d|60)$/); // dnsmasq's address
      const offers = app.events('dhcp.offer').filter((e) => e.mac === '52:54:00:cc:00:07');
      expect(offers[0]?.data).toMatchObject({ proxy: true, arch: 7, strategy: 'omit43' });
      const ack = app.events('dhcp.ack').find((e) => e.mac === '52:54:00:cc:00:07');
      expect(ack?.data).toMatchObject({ proxy: true, file: 'ipxe.efi' });
      await waitFor('strategy proven', 5000, () =>
        app.events('dhcp.proxy').some((e) => e.mac === '52:54:00:cc:00:07' && e.data.strategy === 'omit43'),
      );
      // The real TFTP server sends Debian's ipxe.efi; iPXE runs, asks DHCP again (77 iPXE + 175) and is
      // sent to the boot script instead of the loader: the chainload loop is broken.
      const h = await waitFor('HTTP request from the chainloaded iPXE', 120_000, () => app.lines.find((x) => x.type === 'http')).catch(
        (e: unknown) => {
          if (process.env.CC_DEBUG)
            console.log(
              app.lines
                .map((l) =>
                  l.type === 'event'
                    ? `${(l.event as { type: string }).type} ${(l.event as { message: string }).message}`
                    : JSON.stringify(l),
                )
                .join('\n'),
            );
          throw e;
        },
      );
      expect(h.url).toBe('/boot.ipxe');
      const again = app.events('dhcp.offer').filter((e) => e.mac === '52:54:00:cc:00:07' && e.data.ipxe === true);
      expect(again[0]?.data.file).toBe(`http://${SERVER}:8026/boot.ipxe`);
    } finally {
      stop();
    }
    await app.stop();
  }, 240_000);

  it('full mode: SeaBIOS with the iPXE ROM is answered with the boot script URL and fetches it', async () => {
    lab.exec('dns', 'ip', ['link', 'set', 'f0', 'down']); // take dnsmasq off the link
    const app = start({ ...base('full', 'full'), options: { probeMs: 1500, reprobeMs: 6000 } });
    expect((await app.started()).type).toBe('ready');
    const stop = qemu('tapb0', [
      '-machine',
      'pc',
      '-boot',
      'n',
      '-device',
      'e1000,netdev=n0,mac=52:54:00:cc:00:08,romfile=/usr/lib/ipxe/qemu/pxe-e1000.rom',
    ]);
    try {
      const h = await waitFor('HTTP request from iPXE', 120_000, () => app.lines.find((x) => x.type === 'http'));
      expect(h.url).toBe('/boot.ipxe');
      const ack = app.events('dhcp.ack').find((e) => e.mac === '52:54:00:cc:00:08');
      expect(ack?.data).toMatchObject({ arch: 0, user_class: 'iPXE', ipxe: true, file: `http://${SERVER}:8026/boot.ipxe` });
      expect(String(ack?.data.ip)).toMatch(/^10\.9\.0\.1[0-2]\d$/);
      expect(app.events('dhcp.discover').find((e) => e.mac === '52:54:00:cc:00:08')?.data.vendor_class).toBe(
        'PXEClient:Arch:00000:UNDI:002001',
      );
      // dnsmasq comes back on the link while we serve: the periodic re-probe reports it.
      lab.exec('dns', 'ip', ['link', 'set', 'f0', 'up']);
      const ev = await waitFor('foreign server event', 40_000, () => app.events('dhcp.foreign_server')[0]);
      expect(ev.data).toMatchObject({ serverId: '10.9.0.2' });
      expect((await app.stats()).own_packet ?? 0).toBeGreaterThanOrEqual(1); // our own probe DISCOVER was not answered
    } finally {
      stop();
    }
    await app.stop();
  }, 150_000);
});
