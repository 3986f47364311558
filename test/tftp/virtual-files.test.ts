/**
 * Names the core answers itself (TftpHooks.tftpVirtual): rendered bytes (GRUB's per-node configuration) and
 * files in a folder the core chose (the microkernel of an architecture). The name is checked before the
 * core is asked, the chosen folder confines like a root, and a failing hook falls back to the roots.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TftpHooks } from '../../server/core/boot-hooks.ts';
import { TftpServer, type TftpServerOptions } from '../../server/tftp/server.ts';
import { MemNet } from './helpers/mem-net.ts';
import { memRead } from './helpers/mem-client.ts';
import { makeEvent } from '../support/events.ts';

const SERVER = '10.0.0.1';
const CLIENT = '10.0.0.2';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const FAST_RTO = { initialMs: 30, minMs: 15, maxMs: 60, maxRetries: 3 };

let dir: string;
let root: string;
let mk: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cc-tftp-virtual-'));
  root = path.join(dir, 'root');
  mk = path.join(dir, 'microkernel-arm64');
  mkdirSync(root);
  mkdirSync(mk);
  writeFileSync(path.join(root, 'plain'), 'from the root');
  writeFileSync(path.join(mk, 'vmlinuz'), Buffer.alloc(5000, 7));
  writeFileSync(path.join(dir, 'secret'), 'outside every folder');
  symlinkSync(path.join(dir, 'secret'), path.join(mk, 'initrd.img'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function serve(virtual: TftpHooks['tftpVirtual'], over: Partial<TftpServerOptions> = {}) {
  const net = new MemNet();
  const asked: string[] = [];
  const s = new TftpServer({
    port: 69,
    open: async (port) => net.open(SERVER, port),
    roots: [root],
    blksizeCap: 1468,
    rto: FAST_RTO,
    hooks: {
      tftpFileFor: async (_ip, name) => name,
      nodeIdForIp: async () => 7,
      tftpVirtual: async (ip, name) => {
        asked.push(`${ip} ${name}`);
        return virtual!(ip, name);
      },
    },
    events: { emit: (type, e) => makeEvent(type, 1, e) },
    log: quiet,
    ...over,
  });
  await s.start();
  return { net, s, asked, to: { address: SERVER, port: 69 } };
}

describe('TFTP names the core answers', () => {
  it('serves rendered bytes (more than one block, blksize 1024 as GRUB asks) and files from a folder it names', async () => {
    const cfg = Buffer.from(`${'# a GRUB configuration for one node\n'.repeat(60)}linux (tftp)/mk/arm64/vmlinuz\n`);
    const { net, s, asked, to } = await serve(async (_ip, name) =>
      name === 'grub/node/x.cfg' ? { data: cfg } : name === 'mk/arm64/vmlinuz' ? { dir: mk, name: 'vmlinuz' } : null,
    );
    const r = await memRead(net, CLIENT, to, { file: 'grub/node/x.cfg', options: [['blksize', '1024']] });
    expect(r.error).toBeNull();
    expect(r.data.equals(cfg)).toBe(true);
    const k = await memRead(net, CLIENT, to, { file: 'mk/arm64/vmlinuz' });
    expect(k.data.equals(Buffer.alloc(5000, 7))).toBe(true);
    const p = await memRead(net, CLIENT, to, { file: 'plain' });
    expect(p.data.toString()).toBe('from the root');
    expect(asked).toEqual([`${CLIENT} grub/node/x.cfg`, `${CLIENT} mk/arm64/vmlinuz`, `${CLIENT} plain`]);
    await s.stop();
  });

  it("GRUB's root-relative names (a leading slash, as Debian's network GRUB sends them) reach the core and the roots", async () => {
    const cfg = Buffer.from('configfile (tftp)/grub/node/x.cfg\n');
    const { net, s, asked, to } = await serve(async (_ip, name) => (name === 'grub/grub.cfg' ? { data: cfg } : null));
    const r = await memRead(net, CLIENT, to, { file: '/grub/grub.cfg', options: [['blksize', '1024']] });
    expect(r.error).toBeNull();
    expect(r.data.equals(cfg)).toBe(true);
    const p = await memRead(net, CLIENT, to, { file: '/plain' });
    expect(p.data.toString()).toBe('from the root');
    const twice = await memRead(net, CLIENT, to, { file: '//plain' });
    expect(twice.error?.code).toBe(2);
    expect(asked).toEqual([`${CLIENT} grub/grub.cfg`, `${CLIENT} plain`]);
    await s.stop();
  });

  it('checks the name before asking the core, and the named folder confines like a root', async () => {
    const { net, s, asked, to } = await serve(async (_ip, name) => (name.startsWith('mk/') ? { dir: mk, name: name.slice(3) } : null));
    const bad = await memRead(net, CLIENT, to, { file: 'mk/../secret' });
    expect(bad.error?.code).toBe(2);
    expect(asked).toEqual([]);
    // A symlink in the core's folder that leads out of it is refused, like one in a root.
    const esc = await memRead(net, CLIENT, to, { file: 'mk/initrd.img' });
    expect(esc.error).toEqual({ code: 2, message: 'path leaves the TFTP root (symlink): mk/initrd.img' });
    const missing = await memRead(net, CLIENT, to, { file: 'mk/nothing' });
    expect(missing.error?.code).toBe(1);
    await s.stop();
  });

  it('a failing hook is logged and the name is served from the roots', async () => {
    const { net, s, to } = await serve(async () => {
      throw new Error('store gone');
    });
    const r = await memRead(net, CLIENT, to, { file: 'plain' });
    expect(r.data.toString()).toBe('from the root');
    await s.stop();
  });

  it('a hook failing for every request (a forged source each) is logged once per 10 s, then with the count of the rest', async () => {
    let clock = 0;
    const lines: { o: Record<string, unknown>; m: string | undefined }[] = [];
    const log = { ...quiet, warn: (o: unknown, m?: string) => void lines.push({ o: o as Record<string, unknown>, m }) };
    const { net, s, to } = await serve(
      async () => {
        throw new Error('no new machine records for now');
      },
      { log, now: () => clock },
    );
    for (let i = 1; i <= 30; i++) expect((await memRead(net, `10.9.0.${i}`, to, { file: 'grub/node/x.cfg' })).error?.code).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ m: 'tftpVirtual failed; serving from the roots', o: { ip: '10.9.0.1' } });
    expect(lines[0]!.o).not.toHaveProperty('unlogged');
    clock = 10_000;
    expect((await memRead(net, '10.9.1.1', to, { file: 'grub/node/x.cfg' })).error?.code).toBe(1);
    expect(lines).toHaveLength(2);
    expect(lines[1]!.o).toMatchObject({ ip: '10.9.1.1', unlogged: 29 });
    await s.stop();
  });
});
