/**
 * The on-disk store: one nedb datafile per collection in `<dataDir>/db/`.
 * Torn tails are cut before load; batch lines (batch.ts: several documents
 * written as one unit) are expanded; compaction runs on a schedule. Opening it
 * takes the data dir's lock (one process per data dir); closing releases it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Datastore, closeAppendHandles } from './nedb.ts';
import { Collection, type Doc } from './collection.ts';
import { repairTornTail, type RepairResult } from './repair.ts';
import { expandBatches } from './batch.ts';
import { LeaseFile } from './lease-file.ts';
import type { HookDeliveryDoc, HookDoc } from './docs.ts';
import type { FactsDoc, ImageDoc, NodeDoc, PolicyDoc, ReservationDoc, SettingDoc, TagDoc, TaskDoc } from './docs.ts';
import { ccError } from '../errors/cc-error.ts';
import { lockDataDir, type DataDirLock } from './data-dir-lock.ts';

/** All collections of the appliance. */
export interface Store {
  nodes: Collection<NodeDoc>;
  facts: Collection<FactsDoc>;
  tags: Collection<TagDoc>;
  policies: Collection<PolicyDoc>;
  tasks: Collection<TaskDoc>;
  images: Collection<ImageDoc>;
  /** DHCP leases: in memory, journaled to `leases.db` (lease-file.ts; not a nedb collection). */
  leases: LeaseFile;
  /** DHCP reservations (MAC -> address), edited at run time (server/dhcp/reservations.ts). */
  reservations: Collection<ReservationDoc>;
  settings: Collection<SettingDoc>;
  /** Hooks and their capped delivery log (docs/hooks.md). */
  hooks: Collection<HookDoc>;
  hookDeliveries: Collection<HookDeliveryDoc>;
  /** The event log's own file (server/events/event-file.ts), and the nedb datafile it takes over once. */
  eventsFile: string;
  legacyEventsFile: string;
  /** The data dir's lock, held until close(). */
  lock: DataDirLock;
  /** Torn tails cut at load (reported as events by the caller). */
  repairs: RepairResult[];
  /** Compact every collection now. */
  compactAll(): Promise<void>;
  /** Stop timers and close file handles. */
  close(): Promise<void>;
}

// Nodes are looked up in memory (server/nodes/node-repo.ts), never through nedb: only the unique id stays
// indexed there. nedb keeps every document with one key in one array, so the former indexes on policy, uuid
// and serial (null for most nodes) made every node save a linear search through all of them (bench/checkin).
const INDEXES: Record<string, { fieldName: string; unique?: boolean }[]> = {
  nodes: [{ fieldName: 'id', unique: true }],
  reservations: [{ fieldName: 'ip', unique: true }],
  hook_deliveries: [{ fieldName: 'hook_id' }],
};

/**
 * Open (create) the store in `dataDir`, compacting every `compactionIntervalS`.
 * `holder` names this process in the lock file (`serve`, `image import`).
 */
export async function openStore(dataDir: string, compactionIntervalS: number, holder = 'crashcart'): Promise<Store> {
  const dir = path.join(dataDir, 'db');
  const lock = await lockDataDir(dataDir, holder);
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await fs.access(dir, fs.constants.W_OK);
  } catch (e) {
    await lock.release();
    throw ccError('CC_ERR_DATA_DIR', `${dir}: ${(e as Error).message}`);
  }
  try {
    return await openLocked(dir, compactionIntervalS, lock);
  } catch (e) {
    await lock.release();
    throw e;
  }
}

async function openLocked(dir: string, compactionIntervalS: number, lock: DataDirLock): Promise<Store> {
  const repairs: RepairResult[] = [];
  /** `batches`: the collection takes `putBatch` (batch.ts); its batch lines are expanded before nedb reads the file. */
  async function open<T extends Doc>(name: string, opaque: string[] = [], batches = false): Promise<Collection<T>> {
    const filename = path.join(dir, `${name}.db`);
    const r = await repairTornTail(filename);
    if (r.cutBytes > 0) repairs.push(r);
    if (batches) {
      const b = await expandBatches(filename);
      if (b.cutBytes > 0) repairs.push({ file: filename, cutBytes: b.cutBytes });
    }
    const ds = new Datastore<T>({ filename, timestampData: false });
    try {
      await ds.loadDatabaseAsync();
    } catch (e) {
      throw ccError('CC_ERR_STORE_CORRUPT', `${filename}: ${(e as Error).message}`);
    }
    const wanted = INDEXES[name] ?? [];
    for (const idx of wanted) await ds.ensureIndexAsync(idx);
    // A data dir written by an older version re-creates the indexes it recorded: drop the ones no longer kept.
    for (const field of Object.keys((ds as unknown as { indexes: Record<string, unknown> }).indexes))
      if (field !== '_id' && !wanted.some((w) => w.fieldName === field)) await ds.removeIndexAsync(field);
    // Make sure the (possibly new) file exists so fsync can open it.
    await fs.appendFile(filename, '');
    return new Collection<T>(name, ds, filename, opaque, batches);
  }
  async function openLeases(): Promise<LeaseFile> {
    const filename = path.join(dir, 'leases.db');
    const r = await repairTornTail(filename);
    if (r.cutBytes > 0) repairs.push(r);
    return LeaseFile.open(filename);
  }
  const s = {
    nodes: await open<NodeDoc>('nodes', ['metadata']),
    facts: await open<FactsDoc>('facts', ['facts', 'inventory']),
    tags: await open<TagDoc>('tags'),
    // A reorder renumbers every policy, a settings PATCH sets several keys: each is one batch (all or nothing).
    policies: await open<PolicyDoc>('policies', ['metadata'], true),
    tasks: await open<TaskDoc>('tasks', ['templates']),
    images: await open<ImageDoc>('images'),
    leases: await openLeases(),
    reservations: await open<ReservationDoc>('reservations'),
    settings: await open<SettingDoc>('settings', ['value'], true),
    hooks: await open<HookDoc>('hooks'),
    hookDeliveries: await open<HookDeliveryDoc>('hook_deliveries'),
  };
  const { leases, ...collections } = s;
  const all = Object.values(collections) as Collection<Doc>[];
  const compactAll = async () => {
    for (const c of all) await c.compact();
    await leases.compact();
  };
  const timer = compactionIntervalS > 0 ? setInterval(() => void compactAll().catch(() => undefined), compactionIntervalS * 1000) : null;
  timer?.unref();
  return {
    ...s,
    eventsFile: path.join(dir, 'events.log'),
    legacyEventsFile: path.join(dir, 'events.db'),
    lock,
    repairs,
    compactAll,
    async close() {
      if (timer) clearInterval(timer);
      for (const c of all) await c.fsync.close();
      for (const c of all) await closeAppendHandles(c.filename);
      await leases.close();
      await lock.release();
    },
  };
}
