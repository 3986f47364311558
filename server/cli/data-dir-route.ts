/**
 * Where a CLI command that changes data sends its writes (issue 10 §4): into
 * the data dir itself when nobody holds it (taking the lock for the duration),
 * or through the admin API of the appliance that holds it, which is the only
 * process allowed to write its store.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { CcError, ccError } from '../errors/cc-error.ts';
import { lockDataDir, readLockHolder, type LockHolder } from '../store/data-dir-lock.ts';
import { TOKEN_FILE } from '../http/admin-auth.ts';
import { adminClient, type AdminClient } from './admin-client.ts';

/** Either we hold the data dir (with what `open` returned), or a running appliance does. */
export type Route<T> = { local: T } | { remote: AdminClient };

/** How long to wait for a starting appliance to publish its admin URL. */
const STARTING_WAIT_MS = 15_000;

async function holderWithUrl(dataDir: string, first: LockHolder | null): Promise<LockHolder | null> {
  let h = first;
  const end = Date.now() + STARTING_WAIT_MS;
  // A `serve` that holds the lock but has no URL yet is still starting: give it a moment.
  while ((!h || (!h.adminUrl && h.what.endsWith('serve'))) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    h = await readLockHolder(dataDir);
  }
  return h;
}

/** A client for the appliance that holds `dataDir`, or null when the holder is not an appliance. */
export async function clientForHolder(dataDir: string, holder: LockHolder | null): Promise<AdminClient | null> {
  const h = await holderWithUrl(dataDir, holder);
  if (!h?.adminUrl) return null;
  const token = (await fs.readFile(path.join(dataDir, TOKEN_FILE), 'utf8')).trim();
  return adminClient(h.adminUrl, token, h.fingerprint ?? null);
}

/** Open the data dir with `open` (which takes the lock), or fall back to the appliance holding it. */
export async function routeWrites<T>(dataDir: string, open: () => Promise<T>): Promise<Route<T>> {
  try {
    return { local: await open() };
  } catch (e) {
    if (!(e instanceof CcError) || e.code !== 'CC_ERR_DATA_DIR_LOCKED') throw e;
    const client = await clientForHolder(dataDir, (e.details.holder as LockHolder | null) ?? null);
    if (!client) throw e; // another CLI command holds it: its message names it
    return { remote: client };
  }
}

/** The running appliance on `dataDir`, or CC_ERR_NOT_RUNNING. */
export async function runningAppliance(dataDir: string): Promise<AdminClient> {
  const h = await readLockHolder(dataDir);
  // Only a held lock proves the holder is alive; a lock file left by a dead process still names it.
  try {
    const l = await lockDataDir(dataDir, 'crashcart (probe)');
    await l.release();
    throw ccError('CC_ERR_NOT_RUNNING', dataDir);
  } catch (e) {
    if (!(e instanceof CcError) || e.code !== 'CC_ERR_DATA_DIR_LOCKED') throw e;
  }
  const c = await clientForHolder(dataDir, h);
  if (!c) throw ccError('CC_ERR_NOT_RUNNING', `${dataDir} is held by ${h?.what ?? 'another process'}, not an appliance`);
  return c;
}
