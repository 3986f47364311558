/** Tasks: built-in and user boot profiles; rendering of their templates per node. */
import type { Task, TaskInput } from '../../contract/index.ts';
import type { Collection } from '../store/collection.ts';
import type { ImageDoc, NodeDoc, PolicyDoc, TaskDoc } from '../store/docs.ts';
import { BUILTIN_TASKS, type BuiltinTask } from './builtin.ts';
import { parseTemplate, renderTemplate, TemplateError, render, Untrusted, type RenderOptions } from './template.ts';
import { bootValue } from '../boot/boot-text.ts';
import type { OsNetwork } from '../nodes/os-network.ts';
import { ccError } from '../errors/cc-error.ts';

/** Every template (iPXE and answer files) writes node text through the whitelist (docs/identity.md 4). */
const RENDER: RenderOptions = { escape: bootValue };

/** Node fields a template never sees: credentials and their bookkeeping. */
const SECRET_FIELDS = new Set([
  '_id',
  'agent_token_hash',
  'enrol_token_hash',
  'enrol_token_expires_at',
  'enrol_token_verified',
  'install_token',
  'install_token_hash',
  'install_token_expires_at',
]);

/** Node fields holding an object with a sealed secret (`password_enc`, server/secrets/envelope.ts) in it. */
const SEALED_IN = new Set(['bmc', 'bmc_enrolment']);

/** `v` without its sealed `password_enc`: a BMC password, even sealed, is no template's business (the API never shows it). */
function withoutSealed(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const { password_enc: _sealed, ...rest } = v as Record<string, unknown>;
  return rest;
}

/**
 * The node as templates see it: every field is node text (it came from /boot, DHCP or a registration)
 * except `metadata`, which only the operator writes.
 */
function templateNode(node: NodeDoc): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (SECRET_FIELDS.has(k)) continue;
    out[k] = k === 'metadata' ? v : new Untrusted(SEALED_IN.has(k) ? withoutSealed(v) : v);
  }
  return out;
}

/** Everything a task template can read. */
export interface TaskContextInput {
  publicUrl: string;
  node: NodeDoc;
  policy: PolicyDoc;
  image: ImageDoc | null;
  facts: Record<string, unknown>;
  /** The install token /boot minted (or the one an answer-file request presented); `preview` in previews. */
  token: string;
  /** The node's static address and its subnet (server/nodes/os-network.ts), when it has one. */
  network?: OsNetwork | null;
}

/** A repository folder name safe in an answer file (it came from the ISO). */
const SAFE_DIR = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Where the installer gets its packages: the policy's metadata when the operator set it, else the
 * repository unpacked from the image's ISO on this appliance (air-gapped racks), else the public mirror
 * (Debian) or nothing (kickstart then needs repo_url, which policy validation asks for).
 */
export function repoContext(i: Pick<TaskContextInput, 'publicUrl' | 'policy' | 'image'>): Record<string, unknown> {
  const meta = i.policy.metadata;
  const r = i.image?.repo;
  const url = r ? `${i.publicUrl}/images/${i.image!.name}/${r.path}` : null;
  const deb = r?.kind === 'deb' && url ? new URL(url) : null;
  const applianceMirror = Boolean(deb) && meta.mirror_host === undefined && meta.mirror_dir === undefined;
  const rpm = r?.kind === 'rpm' && url ? r : null;
  // An installation tree (.treeinfo) is installed from its root, which lists its variants (BaseOS,
  // AppStream); a DVD without one from BaseOS (or its first repository), the others added as `repo`.
  const dirs = rpm ? rpm.repos.filter((d) => d === '' || SAFE_DIR.test(d)) : [];
  const main = rpm ? (rpm.install_tree || dirs.includes('') ? '' : (dirs.find((d) => d === 'BaseOS') ?? dirs[0])) : undefined;
  const applianceRepo = main !== undefined && meta.repo_url === undefined;
  return {
    mirror_host: (meta.mirror_host as string | undefined) ?? (deb ? deb.host : 'deb.debian.org'),
    mirror_dir: (meta.mirror_dir as string | undefined) ?? (deb ? deb.pathname : '/debian'),
    mirror_url: applianceMirror ? url : null,
    appliance_mirror: applianceMirror,
    repo_url: (meta.repo_url as string | undefined) ?? (applianceRepo ? `${url}${main ? `/${main}` : ''}/` : null),
    repo_extra:
      applianceRepo && !rpm!.install_tree ? dirs.filter((d) => d !== main && d !== '').map((d) => ({ name: d, url: `${url}/${d}/` })) : [],
    repo: r && url ? { kind: r.kind, url: `${url}/` } : null,
  };
}

/** Build the template context (documented in docs/tasks.md). */
export function taskContext(i: TaskContextInput): Record<string, unknown> {
  const token = i.token;
  const files = i.image?.files.map((f) => f.name) ?? [];
  return {
    server_url: i.publicUrl,
    hostname: new Untrusted(i.node.hostname ?? `node${i.node.id}`),
    domain: (i.policy.metadata.domain as string | undefined) ?? 'local',
    ...repoContext(i),
    token,
    files_base: `${i.publicUrl}/api/v1/nodes/${i.node.id}/files/${token}`,
    stage_url: `${i.publicUrl}/api/v1/nodes/${i.node.id}/stage?token=${token}`,
    node: templateNode({ ...i.node, ip_reserved: i.network?.ip ?? i.node.ip_reserved ?? null }),
    // The operator's static address for the installed OS (manifest, node page), with its subnet; null when none.
    network: i.network ?? null,
    policy: i.policy,
    facts: new Untrusted(i.facts),
    image: i.image
      ? {
          name: i.image.name,
          url: `${i.publicUrl}/images/${i.image.name}`,
          kernel: files.find((f) => /^(vmlinuz|linux|bzimage)/i.test(f)) ?? 'vmlinuz',
          initrd: files.find((f) => /^initrd/i.test(f)) ?? 'initrd.img',
          iso: files.find((f) => /\.iso$/i.test(f)) ?? '',
        }
      : { name: '', url: `${i.publicUrl}/images/none`, kernel: 'vmlinuz', initrd: 'initrd.img', iso: '' },
  };
}

/** A built-in task with its declaration defaults filled in. */
const builtinView = (t: BuiltinTask): Task => ({ ...t, fields: t.fields ?? [], login: t.login ?? false });

/** Task storage (user tasks) over the built-in list. */
export class TaskService {
  private user = new Map<string, TaskDoc>();

  private constructor(private readonly col: Collection<TaskDoc>) {}

  /** Load user tasks. */
  static async open(col: Collection<TaskDoc>): Promise<TaskService> {
    const s = new TaskService(col);
    for (const t of await col.find()) s.user.set(t.name, t);
    return s;
  }

  /** All tasks: built-ins first. */
  list(): Task[] {
    return [...BUILTIN_TASKS.map(builtinView), ...[...this.user.values()].map((t) => this.view(t))];
  }

  /** One task. */
  get(name: string): Task | undefined {
    const b = BUILTIN_TASKS.find((t) => t.name === name);
    if (b) return builtinView(b);
    const u = this.user.get(name);
    return u ? this.view(u) : undefined;
  }

  private view(t: TaskDoc): Task {
    return {
      name: t.name,
      description: t.description,
      builtin: false,
      ipxe: t.ipxe,
      templates: t.templates,
      fields: t.fields ?? [],
      login: t.login ?? false,
    };
  }

  /** Create or replace a user task; templates are parsed so errors surface on save. */
  async put(input: TaskInput, mustBeNew: boolean): Promise<Task> {
    if (BUILTIN_TASKS.some((t) => t.name === input.name))
      throw ccError('CC_ERR_CONFLICT', `"${input.name}" is a built-in task; choose another name`);
    if (mustBeNew && this.user.has(input.name)) throw ccError('CC_ERR_CONFLICT', `task "${input.name}" exists`);
    const templates = input.templates ?? {};
    for (const [name, src] of [['ipxe', input.ipxe] as const, ...Object.entries(templates)]) {
      try {
        parseTemplate(src);
      } catch (e) {
        if (e instanceof TemplateError) throw ccError('CC_ERR_TEMPLATE_INVALID', `${name}: ${e.message}`);
        throw e;
      }
    }
    if (!input.ipxe.startsWith('#!ipxe')) throw ccError('CC_ERR_TEMPLATE_INVALID', 'ipxe: line 1: an iPXE script must start with #!ipxe');
    const keys = (input.fields ?? []).map((f) => f.key);
    const twice = keys.find((k, i) => keys.indexOf(k) !== i);
    if (twice) throw ccError('CC_ERR_BAD_REQUEST', `fields: key "${twice}" is declared twice`);
    const doc: TaskDoc = {
      _id: input.name,
      name: input.name,
      description: input.description ?? '',
      ipxe: input.ipxe,
      templates,
      fields: input.fields ?? [],
      login: input.login ?? false,
    };
    await this.col.put(doc, { durable: true });
    this.user.set(doc.name, doc);
    return this.view(doc);
  }

  /** Delete a user task. */
  async remove(name: string): Promise<void> {
    if (BUILTIN_TASKS.some((t) => t.name === name)) throw ccError('CC_ERR_BAD_REQUEST', `"${name}" is built in and cannot be deleted`);
    if (!this.user.has(name)) throw ccError('CC_ERR_NOT_FOUND', `task "${name}"`);
    await this.col.remove({ _id: name }, { durable: true });
    this.user.delete(name);
  }

  /** Render the iPXE script and (optionally) one answer file for a node. */
  renderFor(taskName: string, ctx: Record<string, unknown>, file?: string): { ipxe: string; files: Record<string, string> } {
    const t = this.get(taskName);
    if (!t) throw ccError('CC_ERR_NOT_FOUND', `task "${taskName}"`);
    try {
      const policy = ctx.policy as PolicyDoc | undefined;
      // custom-ipxe: the policy's own script is a template too.
      const custom = typeof policy?.metadata?.ipxe === 'string' ? render(policy.metadata.ipxe, ctx, RENDER) : '';
      const full = { ...ctx, policy: policy ? { ...policy, metadata: { ...policy.metadata, ipxe: custom } } : policy };
      // No prototype: a file name is looked up from a URL (install.ts), and `constructor` must not be found there.
      const files: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const [name, src] of Object.entries(t.templates))
        if (file === undefined || file === name) files[name] = renderTemplate(parseTemplate(src), full, RENDER);
      return { ipxe: renderTemplate(parseTemplate(t.ipxe), full, RENDER), files };
    } catch (e) {
      if (e instanceof TemplateError) throw ccError('CC_ERR_TEMPLATE_INVALID', `task ${taskName}: ${e.message}`);
      throw e;
    }
  }
}
