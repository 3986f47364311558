/**
 * Every node, kept live: one full load, then the event stream. A `node.*` event names a
 * node; its id is queued and the queue is flushed in one burst (coalescing a storm of
 * check-ins into one GET per node). No polling. New nodes are marked for highlighting.
 */
import { markRaw, ref, shallowRef, type Ref } from 'vue';
import type { Node } from '../../../contract/node.ts';
import type { CcEvent } from '../../../contract/events.ts';
import { call } from '../api/client.ts';
import { ApiError } from '../api/api-error.ts';

/** How the store reaches the server (swapped in tests). */
export interface NodesSource {
  fetchAll(): Promise<Node[]>;
  fetchOne(id: number): Promise<Node | null>;
}

/** The admin API as a NodesSource. */
export const httpNodesSource: NodesSource = {
  async fetchAll() {
    return (await call('GET /api/v1/nodes', { query: { limit: 100000, offset: 0 } })).nodes;
  },
  async fetchOne(id) {
    try {
      return await call('GET /api/v1/nodes/:id', { params: { id } });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  },
};

/** Burst window: events within it cost one GET per node. */
export const COALESCE_MS = 150;
/** How long a newly discovered node stays highlighted. */
export const HIGHLIGHT_MS = 20_000;
const FETCH_CONCURRENCY = 6;

/** The live node list. */
export class NodesStore {
  /** All nodes, replaced (not mutated) on each change so computeds re-run once. */
  readonly nodes: Ref<readonly Node[]> = shallowRef([]);
  /** Ids discovered while the UI was open. */
  readonly newIds: Ref<ReadonlySet<number>> = shallowRef(new Set());
  /** Load state. */
  readonly loaded = ref(false);
  /** Last load error. */
  readonly error: Ref<ApiError | null> = shallowRef(null);
  private byId = new Map<number, Node>();
  private pending = new Set<number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private flushing: Promise<void> | null = null;

  constructor(private readonly source: NodesSource = httpNodesSource) {}

  /** Load every node (on start and after a stream reconnect). */
  async load(): Promise<void> {
    try {
      const all = await this.source.fetchAll();
      this.byId = new Map(all.map((n) => [n.id, markRaw(n)]));
      this.error.value = null;
      this.publish();
      this.loaded.value = true;
    } catch (e) {
      this.error.value = e instanceof ApiError ? e : new ApiError(0, 'CC_UI_UNKNOWN', String(e), '');
    }
  }

  /** Look one node up. */
  get(id: number): Node | undefined {
    return this.byId.get(id);
  }

  /** Feed one event from the stream. */
  handleEvent(ev: CcEvent): void {
    // A flood of new machines is summarised instead of one event each: reload the whole list once.
    if (ev.type === 'node.suppressed' && ev.data.kind === 'discovered') {
      void this.load();
      return;
    }
    // bmc.* events change a node's BMC or power fields: refetch it like node.* events.
    if (!(ev.type.startsWith('node.') || ev.type.startsWith('bmc.')) || ev.node_id === null) return;
    if (ev.type === 'node.forgotten') {
      this.pending.delete(ev.node_id);
      if (this.byId.delete(ev.node_id)) this.publish();
      return;
    }
    this.pending.add(ev.node_id);
    if (this.timer === null) this.timer = setTimeout(() => void this.flush(), COALESCE_MS);
  }

  /** Refetch these nodes now: after an action whose answer changed them (a power action records the state after its events). */
  refresh(ids: readonly number[]): Promise<void> {
    for (const id of ids) this.pending.add(id);
    return this.flush();
  }

  /** Refetch every queued node now (also what the timer calls). */
  async flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.flushing) await this.flushing;
    const ids = [...this.pending];
    this.pending.clear();
    if (ids.length === 0) return;
    this.flushing = this.fetchMany(ids);
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  private async fetchMany(ids: number[]): Promise<void> {
    const added: number[] = [];
    let changed = false;
    const queue = [...ids];
    const worker = async (): Promise<void> => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        let n: Node | null;
        try {
          n = await this.source.fetchOne(id);
        } catch {
          continue; // the next event for this node retries it
        }
        if (n === null) {
          changed = this.byId.delete(id) || changed;
          continue;
        }
        if (!this.byId.has(id) && this.loaded.value) added.push(id);
        this.byId.set(id, markRaw(n));
        changed = true;
      }
    };
    await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, ids.length) }, worker));
    if (added.length > 0) this.markNew(added);
    if (changed) this.publish();
  }

  private markNew(ids: number[]): void {
    const next = new Set(this.newIds.value);
    for (const id of ids) next.add(id);
    this.newIds.value = next;
    setTimeout(() => {
      const later = new Set(this.newIds.value);
      for (const id of ids) later.delete(id);
      this.newIds.value = later;
    }, HIGHLIGHT_MS);
  }

  private publish(): void {
    this.nodes.value = [...this.byId.values()];
  }
}
