/**
 * Golden replies: captured requests in, the exact reply bytes (and where they go)
 * out, compared with files in test/fixtures/dhcp/golden/. The files change only on
 * purpose: `CC_UPDATE_GOLDEN=1 npx vitest run test/dhcp/golden.test.ts` rewrites
 * them, and the diff is reviewed like code. The stored replies are fixtures too,
 * tested four ways.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { createDhcpPlugin } from '../../server/dhcp/plugin.ts';
import { fixedReservations } from '../../server/dhcp/lease-table.ts';
import { decode, encode, encodedLength } from '../../server/dhcp/codec.ts';
import { dumpPacket } from '../../server/dhcp/packet-dump.ts';
import { MemoryIo, memoryEvents, type Sent } from './memory-io.ts';
import { FIXTURES } from './fixture-packets.ts';
import { GOLDEN_CASES, captureBytes, type GoldenCase, type GoldenStep } from './golden-cases.ts';
import { TestHooks, memoryLogger, tempStore, testConfig } from './helpers.ts';

const DIR = path.join(FIXTURES, 'golden');
const UPDATE = process.env.CC_UPDATE_GOLDEN === '1';
/** Fixed clock: lease decisions (and so the bytes) do not depend on when the test runs. */
const NOW = 1_700_000_000_000;

const fileOf = (c: GoldenCase, i: number) => path.join(DIR, c.name, `${String(i + 1).padStart(2, '0')}.txt`);

/** The golden text of one step: header, destination, dump, hex of the exact bytes. */
function render(c: GoldenCase, step: GoldenStep, out: Sent[]): string {
  const lines = [
    `# ${c.name} ${step.capture}${step.arch !== undefined ? ` as option 93 = ${step.arch}` : ''}${step.proxyPort ? ' on port 4011' : ''}: ${step.why}`,
    '# regenerate on purpose: CC_UPDATE_GOLDEN=1 npx vitest run test/dhcp/golden.test.ts',
  ];
  if (out.length === 0) lines.push('no reply');
  for (const s of out) {
    lines.push(`reply to ${s.to.address}:${s.to.port}, ${s.buf.length} bytes`, ...dumpPacket(decode(s.buf)), 'bytes:');
    const hex = Buffer.from(s.buf).toString('hex');
    for (let o = 0; o < hex.length; o += 32)
      lines.push(
        `${(o / 2).toString(16).padStart(4, '0')}  ${hex
          .slice(o, o + 32)
          .replace(/(..)/g, '$1 ')
          .trim()}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** The reply bytes stored in a golden file. */
function storedBytes(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  let cur: string[] | null = null;
  for (const l of text.split('\n')) {
    if (l === 'bytes:') {
      cur = [];
      continue;
    }
    const m = /^[0-9a-f]{4} {2}((?:[0-9a-f]{2} ?)+)$/.exec(l);
    if (cur && m) cur.push(m[1]!.replace(/ /g, ''));
    else if (cur) {
      out.push(Uint8Array.from(Buffer.from(cur.join(''), 'hex')));
      cur = null;
    }
  }
  if (cur) out.push(Uint8Array.from(Buffer.from(cur.join(''), 'hex')));
  return out;
}

/** Play a case into a fresh plugin; the text of every step. */
async function play(c: GoldenCase): Promise<string[]> {
  const ts = await tempStore();
  const io = new MemoryIo();
  const hooks = new TestHooks();
  for (const m of c.secure ?? []) hooks.secure.add(m);
  for (const m of c.uboot ?? []) hooks.uboot.add(m);
  // Offers are not written by the server (only bindings are); a case's outstanding ones go in the file it loads at start.
  for (const o of c.offers ?? [])
    await ts.store.leases.put(
      {
        _id: o.mac,
        mac: o.mac,
        ip: o.ip,
        state: 'offered',
        expires_at: NOW + 60_000,
        pool: 'main',
        hostname: null,
        client_id: null,
        updated_at: NOW,
      },
      { durable: false },
    );
  const plugin = createDhcpPlugin({
    config: testConfig(c.config),
    leases: ts.store.leases,
    events: memoryEvents(),
    hooks,
    log: memoryLogger(),
    reservations: fixedReservations(c.reservations ?? []),
    io: io.factory,
    options: { now: () => NOW, leaseS: 3600, reprobeMs: 0 },
  });
  try {
    await plugin.start();
    const texts: string[] = [];
    for (const step of c.steps) {
      const out = await io.exchange(step.proxyPort ? 4011 : 67, captureBytes(step.capture, step.arch), step.from);
      texts.push(render(c, step, out));
    }
    return texts;
  } finally {
    await plugin.stop();
    await ts.cleanup();
  }
}

const written: string[] = [];
afterAll(() => {
  if (UPDATE) console.log(`golden files written:\n${written.join('\n')}`);
});

describe.each(GOLDEN_CASES)('golden replies: $name', (c) => {
  it('every step answers exactly as stored', async () => {
    const texts = await play(c);
    for (const [i, text] of texts.entries()) {
      const f = fileOf(c, i);
      if (UPDATE) {
        fs.mkdirSync(path.dirname(f), { recursive: true });
        fs.writeFileSync(f, text);
        written.push(path.relative(FIXTURES, f));
      }
      expect(fs.existsSync(f), `${f} is missing: run with CC_UPDATE_GOLDEN=1 once and review the diff`).toBe(true);
      expect(text).toBe(fs.readFileSync(f, 'utf8'));
    }
  });
});

describe('the stored golden replies', () => {
  const files = GOLDEN_CASES.flatMap((c) => c.steps.map((_, i) => fileOf(c, i)));
  it('no stray files: every file belongs to a case step', () => {
    const onDisk = (fs.existsSync(DIR) ? fs.readdirSync(DIR, { recursive: true, encoding: 'utf8' }) : [])
      .filter((f) => f.endsWith('.txt'))
      .map((f) => path.join(DIR, f))
      .sort();
    expect(onDisk).toEqual([...files].sort());
  });
  const replies = files
    .filter((f) => fs.existsSync(f))
    .flatMap((f) => storedBytes(fs.readFileSync(f, 'utf8')).map((bytes, k) => ({ name: `${path.relative(DIR, f)}#${k}`, bytes })));
  it('hold replies and silences', () => {
    expect(replies.length).toBeGreaterThanOrEqual(18);
    expect(files.some((f) => fs.readFileSync(f, 'utf8').includes('\nno reply\n'))).toBe(true);
  });
  it.each(replies)('$name decodes, re-encodes to the same bytes, has the computed length and round-trips', ({ bytes }) => {
    const p = decode(bytes);
    expect(p.op).toBe(2);
    expect(Buffer.from(encode(p)).equals(Buffer.from(bytes))).toBe(true);
    expect(encodedLength(p)).toBe(bytes.length);
    expect(decode(encode(p))).toEqual(p);
    expect(bytes.length).toBeGreaterThanOrEqual(300);
  });
});
