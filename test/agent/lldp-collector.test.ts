/**
 * The agent's LLDP collector row: the capture files the microkernel's lldp-capture writes, read from a
 * collection root, decoded, kept in a replay file and read back; and the fast collection that the agent's
 * first register uses leaves the slow rows (lshw, ipmitool, LLDP) out.
 */
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LLDP_CAPTURE_DIR, lldpCaptureText, parseLldpFrames } from '../../agent/collect/lldp-captures.ts';
import { collectLive } from '../../agent/collect/live.ts';
import { buildInventory } from '../../agent/facts/inventory.ts';

const FIXTURE = path.join(import.meta.dirname, '../fixtures/lldp/lldp-frames.pcap');
/** The SMC frame's capture time (pcap record header), so its 120 s TTL has not run out. */
const CAPTURED_AT = 1258531220;

async function rootWithCapture(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'cc-lldp-root-'));
  await mkdir(path.join(root, LLDP_CAPTURE_DIR), { recursive: true });
  await writeFile(path.join(root, LLDP_CAPTURE_DIR, 'eth0.pcap0'), await readFile(FIXTURE));
  // A second file of the ring that tcpdump has opened but not written yet, and a stray file.
  await writeFile(path.join(root, LLDP_CAPTURE_DIR, 'eth0.pcap1'), Buffer.alloc(0));
  await writeFile(path.join(root, LLDP_CAPTURE_DIR, 'eth0.log'), 'tcpdump: listening on eth0\n');
  return root;
}

describe('LLDP from the microkernel captures', () => {
  it('reads the ring files, keeps the neighbour as JSON, and the inventory puts it on the NIC', async () => {
    const root = await rootWithCapture();
    const text = await lldpCaptureText(root, CAPTURED_AT + 60);
    const smc = {
      switch_name: 'SMCGS8P-Smart',
      switch_id: '00:22:2d:81:db:10',
      port_id: '1',
      port_descr: 'Port #1',
      mgmt_ip: '192.168.2.10',
    };
    expect(parseLldpFrames(text)).toEqual({ eth0: smc });
    // Expired TTL: no neighbour.
    expect(parseLldpFrames(await lldpCaptureText(root, CAPTURED_AT + 3600))).toEqual({});
    // No capture folder at all (a host that is not the microkernel): nothing, no error.
    expect(await lldpCaptureText(path.join(root, 'nowhere'))).toBe('{}');
    const ip = JSON.stringify([
      { ifname: 'eth0', link_type: 'ether', address: '52:54:00:12:34:56', flags: ['UP', 'LOWER_UP'], addr_info: [] },
    ]);
    const inv = buildInventory({
      files: new Map([
        ['ip-addr.json', ip],
        ['lldp-frames.json', text],
      ]),
      errors: [],
    });
    expect(inv.nics.find((n) => n.name === 'eth0')?.lldp).toEqual(smc);
  });

  it('a replayed lldp-frames.json is not trusted: only known fields of the right type, bounded', () => {
    const hostile = JSON.stringify({
      eth0: { switch_name: 'x'.repeat(10_000), vlan: 99999, mgmt_ip: 5, __proto__: { polluted: true }, extra: 'no' },
      'bad name;rm': { switch_name: 'y' },
      eth1: 'not an object',
    });
    const r = parseLldpFrames(hostile);
    expect(r).toEqual({ eth0: { switch_name: 'x'.repeat(255) } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(parseLldpFrames('[]')).toEqual({});
    expect(() => parseLldpFrames('{')).toThrow();
  });

  it('the fast collection for the first register runs no slow program; the full one does', async () => {
    // Programs on PATH that record being run (the orchestration is under test, not the tools).
    const bin = await mkdtemp(path.join(os.tmpdir(), 'cc-lldp-bin-'));
    const log = path.join(bin, 'ran.log');
    for (const tool of ['lshw', 'ipmitool', 'lldpctl', 'lscpu']) {
      await writeFile(path.join(bin, tool), `#!/bin/sh\necho ${tool} >> ${log}\necho '{}'\n`);
      await chmod(path.join(bin, tool), 0o755);
    }
    const root = await rootWithCapture();
    const saved = process.env.PATH;
    process.env.PATH = `${bin}:${saved}`;
    try {
      const fast = await collectLive({ fast: true, root, timeoutMs: 10_000 });
      const ranFast = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);
      expect(ranFast.filter((t) => t !== 'lscpu')).toEqual([]);
      expect([...fast.files.keys()].filter((f) => /lshw|ipmitool|lldp/.test(f))).toEqual([]);
      await writeFile(log, '');
      const full = await collectLive({ root, timeoutMs: 10_000 });
      const ranFull = new Set((await readFile(log, 'utf8')).split('\n').filter(Boolean));
      expect([...ranFull].sort()).toEqual(['ipmitool', 'lldpctl', 'lscpu', 'lshw']);
      expect(full.files.has('lldp-frames.json')).toBe(true);
    } finally {
      process.env.PATH = saved;
    }
  });
});
