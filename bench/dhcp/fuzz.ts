/**
 * Codec fuzz bench: 1,000,000 random and mutated packets through decode,
 * the options view and the classifier. Anything but MalformedPacket escaping
 * is a failure (exit 1). `node bin/run-ts.mjs bench/dhcp/fuzz.ts [count]`.
 */
import { decode } from '../../server/dhcp/codec.ts';
import { collectOptions, messageType, decodeWith } from '../../server/dhcp/options.ts';
import { OPTION_BY_CODE } from '../../server/dhcp/option-table.ts';
import { classifyClient } from '../../server/dhcp/classify.ts';
import { MalformedPacket } from '../../server/net/malformed.ts';
import { dhcpFromHex, dhcpFromPcap, fixtureFiles } from '../../test/dhcp/fixture-packets.ts';

/** xorshift32: a seeded, repeatable generator. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function exercise(b: Uint8Array): void {
  const p = decode(b);
  const o = collectOptions(p);
  messageType(o);
  classifyClient(o);
  // Every option the table knows, through its own codec.
  for (const [code, data] of o) {
    const row = OPTION_BY_CODE.get(code);
    if (row) decodeWith(row, data);
  }
}

/** Run the fuzz; returns counts and the packets/s. */
export function runFuzz(count: number, seed = 20261124): { count: number; ok: number; malformed: number; perSecond: number } {
  const { pcaps, hexes } = fixtureFiles();
  const seeds = [...pcaps.flatMap((f) => dhcpFromPcap(f).map((d) => d.payload)), ...hexes.map((f) => dhcpFromHex(f))];
  const r = rng(seed);
  let ok = 0;
  let malformed = 0;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    let b: Uint8Array;
    if (i % 4 === 0) {
      b = new Uint8Array(r() % 700);
      for (let j = 0; j < b.length; j++) b[j] = r() & 255;
      if (b.length > 240 && r() % 2 === 0) b.set([99, 130, 83, 99], 236); // random options behind a real cookie
    } else {
      const s = seeds[r() % seeds.length] as Uint8Array;
      b = new Uint8Array(s);
      const flips = 1 + (r() % 8);
      for (let k = 0; k < flips; k++) b[r() % b.length] = r() & 255;
      if (r() % 5 === 0) b = b.subarray(0, r() % (b.length + 1));
    }
    try {
      exercise(b);
      ok++;
    } catch (e) {
      if (!(e instanceof MalformedPacket)) {
        console.error(`escaped on packet ${i}: ${String(e)}\n${Buffer.from(b).toString('hex')}`);
        process.exit(1);
      }
      malformed++;
    }
  }
  const s = (performance.now() - t0) / 1000;
  return { count, ok, malformed, perSecond: Math.round(count / s) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 1_000_000);
  const r = runFuzz(n);
  console.log(`fuzz: ${r.count} packets, ${r.ok} decoded, ${r.malformed} MalformedPacket, nothing else escaped, ${r.perSecond} packets/s`);
}
