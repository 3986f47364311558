/**
 * test/dhcp/warm-deopt.test.ts's child, run with `--allow-natives-syntax`: whether the lease journal's `write`
 * (LeaseFile) and the lease slots' `write` (LeaseSlots), optimised on the DHCP warm start's lease files (in memory,
 * a new one per slice), stay optimised at the first lease of the real file. The real file is opened first, as the
 * appliance's store opens it before the warm start. Then a lease of another shape is written to it (a field more: kept
 * whole, a branch nothing took before), which throws optimised code away: the contrast, so the check can fail.
 * Prints one JSON line: both functions optimised before the real file's first lease, after it, and after the other shape.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LeaseDoc } from '../../server/store/docs.ts';
import { LeaseFile } from '../../server/store/lease-file.ts';
import { LeaseSlots } from '../../server/store/lease-slots.ts';
import { isOptimised, optimizeNext, prepare } from './v8-natives.ts';

const fileWrite = LeaseFile.prototype.write;
// Private in TypeScript, a method of the prototype at run time.
const slotsWrite = (LeaseSlots.prototype as unknown as { write: unknown }).write;
const optimised = () => isOptimised(fileWrite) && isOptimised(slotsWrite);

const hex = (n: number) => n.toString(16).padStart(2, '0');
/** Lease `i` as the DHCP server writes an ACKed one (full-server.ts leaseDoc): a PXE client, no host name or identifier. */
function lease(i: number): LeaseDoc {
  const mac = `0a:cc:00:00:${hex(i >> 8)}:${hex(i & 255)}`;
  const now = Date.now();
  return {
    _id: mac,
    mac,
    ip: `10.9.${1 + (i >> 8)}.${i & 255}`,
    state: 'bound',
    expires_at: now + 3_600_000,
    pool: 'default',
    hostname: null,
    client_id: null,
    updated_at: now,
    arch: i & 1 ? 7 : 0,
  };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-lease-feedback-'));
try {
  const real = LeaseFile.open(path.join(dir, 'leases.db'));
  prepare(fileWrite);
  prepare(slotsWrite);
  // The warm start: a lease file in memory per slice, each written to as a slice's DORAs write theirs.
  let i = 0;
  for (let slice = 0; slice < 40; slice++) {
    const warm = LeaseFile.memory(64);
    for (let k = 0; k < 12; k++) await warm.put(lease(i++), { durable: true });
  }
  optimizeNext(fileWrite);
  optimizeNext(slotsWrite);
  await LeaseFile.memory(64).put(lease(i++), { durable: true });
  const before = optimised();
  await real.put(lease(i++), { durable: true });
  const after = optimised();
  await real.put({ ...lease(i++), note: 'written by something else' }, { durable: true });
  const other = optimised();
  await real.close();
  process.stdout.write(`${JSON.stringify({ before, after, other })}\n`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
