/**
 * The store part of a bundle: tags, tasks, policies, settings and image records as the admin API's
 * own input shapes (so an import goes through the same validation as the API), plus node data with
 * `--with-nodes`. What never travels: admin token, TLS key, sessions, leases, events, node tokens
 * (every credential the appliance issued to a node, by the field rules of node-fields.ts); without
 * `--with-secrets` also policy root password hashes and sealed BMC passwords (configured and enrolled).
 */
import { Type, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import {
  NodeStateSchema,
  PolicyInputSchema,
  SettingsSchema,
  TagInputSchema,
  TaskInputSchema,
  type PolicyInput,
  type SettingsPatch,
  type TagInput,
  type TaskInput,
} from '../../contract/index.ts';
import type { Store } from '../store/store.ts';
import type { FactsDoc, ImageDoc, NodeDoc, ReservationDoc } from '../store/docs.ts';
import type { TagService } from '../tags/tag-service.ts';
import type { TaskService } from '../tasks/task-service.ts';
import type { PolicyService } from '../policies/policy-service.ts';
import type { StoredPolicyInput } from '../policies/policy-input.ts';
import type { SettingsService } from '../settings/settings-service.ts';
import { validateRule, referencedTags } from '../rules/validate.ts';
import { parseTemplate } from '../tasks/template.ts';
import type { StoreFile } from './manifest.ts';
import { nodeForBundle, nodeFromBundle } from './node-fields.ts';

/** The services a bundle reads from and writes through (the appliance's context, or ones opened on a held store). */
export interface Catalog {
  store: Store;
  tags: TagService;
  tasks: TaskService;
  policies: PolicyService;
  settings: SettingsService;
}

/** A stored node as a bundle carries it (validated loosely: the operator's own export, checked for shape). */
const NodeDocSchema = Type.Object(
  {
    _id: Type.String({ pattern: '^[1-9][0-9]{0,9}$' }),
    id: Type.Integer({ minimum: 1, maximum: 2 ** 31 }),
    state: NodeStateSchema,
    macs: Type.Array(Type.String({ pattern: '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$' }), { maxItems: 64 }),
    tags: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 }),
    metadata: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: true },
);
const FactsDocSchema = Type.Object(
  { _id: Type.String({ pattern: '^[1-9][0-9]{0,9}$' }), facts: Type.Record(Type.String(), Type.Unknown()), updated_at: Type.String() },
  { additionalProperties: true },
);
const ReservationDocSchema = Type.Object(
  {
    _id: Type.String(),
    mac: Type.String({ pattern: '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$' }),
    ip: Type.String({ pattern: '^(\\d{1,3}\\.){3}\\d{1,3}$' }),
    hostname: Type.Union([Type.String({ maxLength: 253 }), Type.Null()]),
    updated_at: Type.Number(),
  },
  { additionalProperties: false },
);
const MAX = { maxItems: 100_000 };

/** Each store file's schema. */
const SCHEMAS: Record<StoreFile, TSchema> = {
  tags: Type.Array(TagInputSchema, MAX),
  tasks: Type.Array(TaskInputSchema, MAX),
  policies: Type.Array(PolicyInputSchema, MAX),
  settings: SettingsSchema,
  // Image records vary by kind (disk images carry more): name, kind and files are what import relies on.
  images: Type.Array(
    Type.Object(
      {
        name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$' }),
        kind: Type.String({ maxLength: 32 }),
        files: Type.Array(Type.Object({ name: Type.String(), size: Type.Number(), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }), {
          maxItems: 1000,
        }),
        created_at: Type.String(),
      },
      { additionalProperties: true },
    ),
    MAX,
  ),
  nodes: Type.Array(NodeDocSchema, MAX),
  facts: Type.Array(FactsDocSchema, MAX),
  reservations: Type.Array(ReservationDocSchema, MAX),
};
const CHECKERS = Object.fromEntries(Object.entries(SCHEMAS).map(([k, s]) => [k, Compile(s)])) as Record<
  StoreFile,
  ReturnType<typeof Compile>
>;

/** The store part of a bundle, parsed. */
export interface StoreData {
  tags?: TagInput[];
  tasks?: TaskInput[];
  policies?: PolicyInput[];
  settings?: SettingsPatch;
  images?: { name: string; kind: string; files: ImageDoc['files']; created_at: string; [k: string]: unknown }[];
  nodes?: NodeDoc[];
  facts?: FactsDoc[];
  reservations?: ReservationDoc[];
}

/** Parse and schema-check one store file; a string says why it is refused. */
export function parseStoreFile(file: StoreFile, text: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return `store/${file}.json is not JSON: ${(e as Error).message}`;
  }
  const c = CHECKERS[file];
  if (!c.Check(v)) {
    const first = [...c.Errors(v)][0];
    return `store/${file}.json: ${first ? `${first.instancePath || '/'} ${first.message}` : 'invalid'}`;
  }
  return v;
}

/** The store files of a bundle, as JSON text. */
export async function exportStore(c: Catalog, o: { withNodes: boolean; withSecrets: boolean }): Promise<Map<StoreFile, string>> {
  const out = new Map<StoreFile, string>();
  const put = (f: StoreFile, v: unknown) => out.set(f, JSON.stringify(v, null, 1) + '\n');
  put(
    'tags',
    c.tags.list().map((t) => ({ name: t.name, rule: t.rule, description: t.description })),
  );
  put(
    'tasks',
    c.tasks
      .list()
      .filter((t) => !t.builtin)
      .map((t) => ({ name: t.name, description: t.description, ipxe: t.ipxe, templates: t.templates })),
  );
  put(
    'policies',
    c.policies.list().map((p) => {
      const input: PolicyInput = {
        name: p.name,
        enabled: p.enabled,
        tags: p.tags,
        max_count: p.max_count,
        task: p.task,
        image: p.image,
        hostname_template: p.hostname_template,
        ssh_keys: p.ssh_keys,
        metadata: p.metadata,
      };
      // A password hash can be cracked offline: it travels only when asked for.
      if (o.withSecrets) input.root_password_hash = p.root_password_hash;
      return input;
    }),
  );
  put('settings', { ...c.settings.get() });
  put(
    'images',
    (await c.store.images.find({})).map(({ _id, ...rest }) => (void _id, rest)),
  );
  if (o.withNodes) {
    // Node credentials stay with the appliance that issued them (nodes register again on the next boot); sealed
    // passwords travel only with the key. Field by field, by rule: a field without one is left out.
    put(
      'nodes',
      (await c.store.nodes.find({})).map((d) => nodeForBundle(d, o.withSecrets)),
    );
    put('facts', await c.store.facts.find({}));
    put('reservations', await c.store.reservations.find({}));
  }
  return out;
}

/** What the target already has, for the checks that span bundle and target. */
export interface TargetNames {
  tags: ReadonlySet<string>;
  tasks: ReadonlySet<string>;
  images: ReadonlySet<string>;
  nodeCount: number;
}

/** Problems that would make applying fail half-way, found before anything is written. */
export function checkStoreData(d: StoreData, t: TargetNames): string[] {
  const problems: string[] = [];
  const tagNames = new Set([...t.tags, ...(d.tags ?? []).map((x) => x.name)]);
  for (const tag of d.tags ?? [])
    for (const p of validateRule(tag.rule, tagNames)) problems.push(`tag ${tag.name}: ${p.path}: ${p.message}`);
  for (const task of d.tasks ?? []) {
    for (const [name, src] of [['ipxe', task.ipxe] as const, ...Object.entries(task.templates ?? {})]) {
      try {
        parseTemplate(src);
      } catch (e) {
        problems.push(`task ${task.name}: ${name}: ${(e as Error).message}`);
      }
    }
    if (!task.ipxe.startsWith('#!ipxe')) problems.push(`task ${task.name}: an iPXE script must start with #!ipxe`);
  }
  const taskNames = new Set([...t.tasks, ...(d.tasks ?? []).map((x) => x.name)]);
  const imageNames = new Set([...t.images, ...(d.images ?? []).map((x) => x.name)]);
  for (const p of d.policies ?? []) {
    const missing = (p.tags ?? []).filter((x) => !tagNames.has(x));
    if (missing.length) problems.push(`policy ${p.name}: no tag named ${missing.join(', ')}`);
    if (!taskNames.has(p.task)) problems.push(`policy ${p.name}: no task named ${p.task}`);
    if (p.image && !imageNames.has(p.image)) problems.push(`policy ${p.name}: no image named ${p.image}`);
  }
  if (d.nodes && d.nodes.length > 0 && t.nodeCount > 0)
    problems.push(`the bundle carries ${d.nodes.length} nodes and this data dir has ${t.nodeCount}`);
  return problems;
}

/** Tags in an order where each tag's referenced tags come first (rules may say ["tag", x]). */
function tagOrder(tags: readonly TagInput[], existing: ReadonlySet<string>): TagInput[] {
  const left = [...tags];
  const done = new Set(existing);
  const out: TagInput[] = [];
  while (left.length > 0) {
    const i = left.findIndex((t) => referencedTags(t.rule).every((r) => done.has(r) || r === t.name));
    const next = left.splice(i >= 0 ? i : 0, 1)[0]!; // a cycle: the service's own check names it
    out.push(next);
    done.add(next.name);
  }
  return out;
}

/** Write the store part through the services (their own validation runs again). */
export async function applyStore(d: StoreData, c: Catalog): Promise<Record<string, number>> {
  const n: Record<string, number> = {};
  for (const tag of tagOrder(d.tags ?? [], new Set(c.tags.list().map((x) => x.name)))) await c.tags.put(tag, false);
  n.tags = d.tags?.length ?? 0;
  for (const task of d.tasks ?? []) await c.tasks.put(task, false);
  n.tasks = d.tasks?.length ?? 0;
  for (const img of d.images ?? []) {
    const doc = { ...img, _id: img.name } as ImageDoc;
    await c.store.images.put(doc, { durable: true });
  }
  n.images = d.images?.length ?? 0;
  // Stored policies carry hashes only: a plaintext password or an API-only flag in a bundle is dropped, never stored.
  const stored = (x: PolicyInput): StoredPolicyInput => {
    const { root_password, confirm_unreachable, ...rest } = x;
    void root_password;
    void confirm_unreachable;
    return rest;
  };
  for (const p of d.policies ?? []) await c.policies.put(p, false, stored);
  n.policies = d.policies?.length ?? 0;
  if (d.settings) await c.settings.patch(d.settings);
  for (const node of d.nodes ?? []) await c.store.nodes.put(nodeFromBundle(node), { durable: true });
  for (const f of d.facts ?? []) await c.store.facts.put(f, { durable: true });
  for (const r of d.reservations ?? []) await c.store.reservations.put(r, { durable: true });
  n.nodes = d.nodes?.length ?? 0;
  return n;
}
