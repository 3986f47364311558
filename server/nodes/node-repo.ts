/**
 * The authoritative in-memory node index over the `nodes` collection: by id,
 * by MAC, by token hash. Hot fields (last_seen) are flushed in batches; writes
 * the protocol acknowledges go through `save(doc, { durable: true })`.
 */
import type { Collection, WriteOpts } from '../store/collection.ts';
import type { NodeDoc } from '../store/docs.ts';
import { hashToken } from './token-digest.ts';

/** An empty summary. */
export const EMPTY_SUMMARY: NodeDoc['summary'] = {
  cpu_model: null,
  cpu_count: null,
  memory_mb: null,
  disk_count: null,
  disk_total_bytes: null,
  nic_count: null,
  bmc_ip: null,
};

/** The node index. */
export class NodeRepo {
  private readonly byId = new Map<number, NodeDoc>();
  private readonly byMac = new Map<string, number>();
  private readonly byTokenHash = new Map<string, number>();
  /** UUID and serial are not unique in the field (cheap boards, VMs): each maps to every holder. */
  private readonly byHwId = new Map<string, Set<number>>();
  private readonly dirty = new Set<number>();
  /** What each node was indexed under (docs are mutated in place, so the old keys are kept here). */
  private readonly keys = new Map<number, { macs: string[]; tokens: string[]; hw: string[]; registered: boolean }>();
  private maxId = 0;
  private unregisteredCount = 0;

  private constructor(private readonly col: Collection<NodeDoc>) {}

  /** Load every node into memory. */
  static async open(col: Collection<NodeDoc>): Promise<NodeRepo> {
    const r = new NodeRepo(col);
    for (const d of await col.find()) {
      // Records written before install tokens were hashed held the token itself: keep only its hash.
      if (typeof d.install_token === 'string') {
        d.install_token_hash = hashToken(d.install_token);
        delete d.install_token;
        r.dirty.add(d.id);
      }
      r.index(d);
    }
    return r;
  }

  private index(d: NodeDoc): void {
    this.byId.set(d.id, d);
    this.maxId = Math.max(this.maxId, d.id);
    const tokens = [d.agent_token_hash, d.enrol_token_hash].filter((h): h is string => Boolean(h));
    const hw = [d.uuid ? `u:${d.uuid}` : null, d.serial ? `s:${d.serial}` : null].filter((k): k is string => k !== null);
    for (const m of d.macs) this.byMac.set(m, d.id);
    for (const h of tokens) this.byTokenHash.set(h, d.id);
    for (const k of hw) {
      let set = this.byHwId.get(k);
      if (!set) this.byHwId.set(k, (set = new Set()));
      set.add(d.id);
    }
    // The cap on unregistered records is about what the rack can make the core create: the operator's
    // manifest records do not count against it.
    const registered = d.registered_at !== null || d.manifest !== undefined;
    if (!registered) this.unregisteredCount++;
    this.keys.set(d.id, { macs: [...d.macs], tokens, hw, registered });
  }

  private unindex(id: number): void {
    const k = this.keys.get(id);
    if (!k) return;
    if (!k.registered) this.unregisteredCount--;
    for (const m of k.macs) if (this.byMac.get(m) === id) this.byMac.delete(m);
    for (const h of k.tokens) if (this.byTokenHash.get(h) === id) this.byTokenHash.delete(h);
    for (const h of k.hw) {
      const set = this.byHwId.get(h);
      set?.delete(id);
      if (set?.size === 0) this.byHwId.delete(h);
    }
    this.keys.delete(id);
  }

  /** A node by id. */
  get(id: number): NodeDoc | undefined {
    return this.byId.get(id);
  }

  /** A node by one of its MACs. */
  byMacAddress(mac: string): NodeDoc | undefined {
    const id = this.byMac.get(mac);
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** The node a token (enrolment or agent) belongs to. */
  byToken(token: string): NodeDoc | undefined {
    const id = this.byTokenHash.get(hashToken(token));
    return id === undefined ? undefined : this.byId.get(id);
  }

  /**
   * The first node (in id order) whose last known address is `ip`. Asked per download and per TFTP read, so it
   * walks the records in place: `all().find` copied every record's reference first (a 500-machine storm makes
   * 1,000 downloads, each copying up to 500 references).
   */
  byIp(ip: string): NodeDoc | undefined {
    for (const d of this.byId.values()) if (d.ip === ip) return d;
    return undefined;
  }

  /** All nodes (live objects: do not mutate outside `save`/`touch`). */
  all(): NodeDoc[] {
    return [...this.byId.values()];
  }

  /** Number of nodes. */
  get size(): number {
    return this.byId.size;
  }

  /** Number of nodes that never registered (boot-time records). */
  get unregistered(): number {
    return this.unregisteredCount;
  }

  /** Nodes sharing any MAC, the UUID or the serial. */
  candidates(macs: string[], uuid: string | null, serial: string | null): NodeDoc[] {
    const ids = new Set<number>();
    for (const m of macs) {
      const id = this.byMac.get(m);
      if (id !== undefined) ids.add(id);
    }
    for (const k of [uuid ? `u:${uuid}` : null, serial ? `s:${serial}` : null])
      if (k) for (const id of this.byHwId.get(k) ?? []) ids.add(id);
    return [...ids].map((i) => this.byId.get(i)!);
  }

  /** A new node record with the next id (not yet saved). */
  create(fields: Partial<NodeDoc> & { macs: string[] }, now: Date): NodeDoc {
    const id = ++this.maxId;
    return {
      _id: String(id),
      id,
      state: 'discovered',
      hostname: null,
      boot_mac: fields.macs[0] ?? null,
      uuid: null,
      serial: null,
      manufacturer: null,
      product: null,
      arch: null,
      platform: null,
      boot_mode: null,
      ip: null,
      tags: [],
      policy: null,
      bound_explicitly: false,
      efi_loader: null,
      boot_chain: null,
      last_chain: null,
      facts_hash: null,
      agent_token_hash: null,
      enrol_token_hash: null,
      pending_command: null,
      created_at: now.toISOString(),
      registered_at: null,
      last_seen: now.toISOString(),
      summary: { ...EMPTY_SUMMARY },
      metadata: {},
      conflicts: [],
      approved: false,
      ...fields,
    };
  }

  /** Persist a node (re-indexing it). */
  async save(d: NodeDoc, opts?: WriteOpts): Promise<void> {
    this.unindex(d.id);
    this.index(d);
    this.dirty.delete(d.id);
    await this.col.put(d, opts);
  }

  /** Mark a node's hot fields changed; persisted by the next `flush`. */
  touch(d: NodeDoc): void {
    this.dirty.add(d.id);
  }

  /** Persist nodes changed by `touch` (not durable: last_seen is not acknowledged). */
  async flush(): Promise<number> {
    const ids = [...this.dirty];
    this.dirty.clear();
    for (const id of ids) {
      const d = this.byId.get(id);
      if (d) await this.col.put(d);
    }
    return ids.length;
  }

  /** Delete a node. */
  async remove(id: number, opts?: WriteOpts): Promise<void> {
    const d = this.byId.get(id);
    if (!d) return;
    this.unindex(id);
    this.byId.delete(id);
    this.dirty.delete(id);
    await this.col.remove({ _id: d._id }, opts);
  }
}
