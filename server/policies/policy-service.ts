/** Policies: an ordered list (priority), each binding matching nodes to a task. */
import type { Policy, PolicyInput, Task } from '../../contract/index.ts';
import type { Collection } from '../store/collection.ts';
import type { PolicyDoc } from '../store/docs.ts';
import { ccError } from '../errors/cc-error.ts';
import { isUnreachable, type StoredPolicyInput } from './policy-input.ts';

/** Default hostname template (Razor style: `${id}` is the node id). */
export const DEFAULT_HOSTNAME_TEMPLATE = 'node${id}';

/** Policy storage, cached in memory in priority order. */
export class PolicyService {
  private items = new Map<string, PolicyDoc>();

  private constructor(private readonly col: Collection<PolicyDoc>) {}

  /** Load all policies. */
  static async open(col: Collection<PolicyDoc>): Promise<PolicyService> {
    const s = new PolicyService(col);
    for (const p of await col.find()) s.items.set(p.name, p);
    return s;
  }

  /** Policies in priority order. */
  list(): PolicyDoc[] {
    return [...this.items.values()].sort((a, b) => a.priority - b.priority || a.name.localeCompare(b.name));
  }

  /** One policy. */
  get(name: string): PolicyDoc | undefined {
    return this.items.get(name);
  }

  /**
   * Create (appended last) or update a policy; `prepare` validates names and references and returns what
   * is stored (server/policies/policy-input.ts: the password hashed, keys checked).
   */
  async put(
    body: PolicyInput,
    mustBeNew: boolean,
    prepare: (p: PolicyInput, old: PolicyDoc | undefined) => StoredPolicyInput,
  ): Promise<PolicyDoc> {
    const old = this.items.get(body.name);
    if (mustBeNew && old) throw ccError('CC_ERR_CONFLICT', `policy "${body.name}" exists`);
    const input = prepare(body, old);
    const doc: PolicyDoc = {
      _id: input.name,
      name: input.name,
      priority: old?.priority ?? this.list().reduce((m, p) => Math.max(m, p.priority + 1), 0),
      enabled: input.enabled ?? old?.enabled ?? true,
      tags: input.tags ?? old?.tags ?? [],
      max_count: input.max_count === undefined ? (old?.max_count ?? null) : input.max_count,
      task: input.task,
      image: input.image === undefined ? (old?.image ?? null) : input.image,
      hostname_template: input.hostname_template ?? old?.hostname_template ?? DEFAULT_HOSTNAME_TEMPLATE,
      root_password_hash: input.root_password_hash === undefined ? (old?.root_password_hash ?? null) : input.root_password_hash,
      ssh_keys: input.ssh_keys ?? old?.ssh_keys ?? [],
      metadata: input.metadata ?? old?.metadata ?? {},
    };
    await this.col.put(doc, { durable: true });
    this.items.set(doc.name, doc);
    return doc;
  }

  /** Delete a policy (the caller checks it has no bound nodes). */
  async remove(name: string): Promise<void> {
    if (!this.items.has(name)) throw ccError('CC_ERR_NOT_FOUND', `policy "${name}"`);
    await this.col.remove({ _id: name }, { durable: true });
    this.items.delete(name);
  }

  /**
   * Set the whole order (names must be exactly the existing policies). The renumbered policies are stored as one
   * batch (store/batch.ts): a crash keeps the old order or the new one, never a mix with duplicate priorities; the
   * cached policies change only once the batch is on disk.
   */
  async setOrder(names: string[]): Promise<PolicyDoc[]> {
    const have = new Set(this.items.keys());
    const given = new Set(names);
    if (given.size !== names.length || given.size !== have.size || [...have].some((n) => !given.has(n)))
      throw ccError('CC_ERR_BAD_REQUEST', `names must list every policy exactly once: ${[...have].join(', ')}`);
    const moved = names.flatMap((n, i) => {
      const p = this.items.get(n)!;
      return p.priority === i ? [] : [{ ...p, priority: i }];
    });
    await this.col.putBatch(moved, { durable: true });
    for (const p of moved) this.items.set(p.name, p);
    return this.list();
  }

  /** Move one policy up or down by one place. */
  async move(name: string, direction: 'up' | 'down'): Promise<PolicyDoc[]> {
    const names = this.list().map((p) => p.name);
    const i = names.indexOf(name);
    if (i < 0) throw ccError('CC_ERR_NOT_FOUND', `policy "${name}"`);
    const j = direction === 'up' ? i - 1 : i + 1;
    if (j >= 0 && j < names.length) [names[i], names[j]] = [names[j]!, names[i]!];
    return this.setOrder(names);
  }

  /** API view with the number of bound nodes: the password hash never leaves (write-only). */
  view(p: PolicyDoc, boundCount: number, task: Task | undefined): Policy {
    return {
      name: p.name,
      priority: p.priority,
      enabled: p.enabled,
      tags: p.tags,
      max_count: p.max_count,
      task: p.task,
      image: p.image,
      hostname_template: p.hostname_template,
      root_password_set: Boolean(p.root_password_hash),
      ssh_keys: p.ssh_keys,
      metadata: p.metadata,
      bound_count: boundCount,
      unreachable: isUnreachable(task, p.root_password_hash, p.ssh_keys),
    };
  }
}

/** Render a hostname template: `${id}`, `${serial}`, `${mac}` (hex, no colons). */
export function renderHostname(tpl: string, n: { id: number; serial: string | null; boot_mac: string | null }): string {
  const h = tpl
    .replace(/\$\{id\}/g, String(n.id))
    .replace(/\$\{serial\}/g, (n.serial ?? `n${n.id}`).toLowerCase())
    .replace(/\$\{mac\}/g, (n.boot_mac ?? '').replace(/:/g, ''));
  return (
    h
      .toLowerCase()
      .replace(/[^a-z0-9.-]/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 63) || `node${n.id}`
  );
}
