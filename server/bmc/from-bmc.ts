/**
 * A machine known only by its BMC (docs/bmc.md "A machine known only by its BMC"): the operator gives the BMC,
 * Crashcart reads the machine's identifiers from it and keeps an `expected` record carrying the BMC, so the
 * first power-on is Crashcart's and the machine's first boot claims the record (docs/identity.md 1). The
 * same read fills in a manifest record the operator gave a BMC (POST /api/v1/nodes/ID/bmc/identify).
 */
import type { BmcIdentity, NodeFromBmcRequest } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import { durably } from '../core/durably.ts';
import { ccError } from '../errors/cc-error.ts';
import type { NodeDoc } from '../store/docs.ts';
import { isUnclaimed } from '../nodes/operator-fields.ts';
import { bmcRecordFromInput, bmcTarget, type BmcRecord } from './bmc-record.ts';
import { bmcTimings } from './bmc-timings.ts';
import { DEFAULT_BMC_PORT, createDriver } from './drivers.ts';
import { readIdentity, type IdentityRead } from './bmc-identity.ts';
import { recordPin, type NodeDriverDeps } from './node-driver.ts';
import './node-bmc-fields.ts';

/** What both routes answer (the node as stored; the route turns it into the API's view). */
export interface FromBmcResult {
  node: NodeDoc;
  identity: BmcIdentity;
  warnings: string[];
}

/** Records already holding one of these identifiers (`except` left out). */
function holders(ctx: CoreContext, id: BmcIdentity, except: number | null): NodeDoc[] {
  return ctx.repo.candidates(id.macs, id.uuid, id.serial).filter((n) => n.id !== except);
}

/** What a holder holds, for messages: `node 4 (uuid ...)`. */
function describeHolders(found: readonly NodeDoc[], id: BmcIdentity): string {
  return found
    .slice(0, 5)
    .map((n) => {
      const what = [
        ...(id.uuid && n.uuid === id.uuid ? [`uuid ${id.uuid}`] : []),
        ...(id.serial && n.serial === id.serial ? [`serial ${id.serial}`] : []),
        ...id.macs.filter((m) => n.macs.includes(m)).map((m) => `mac ${m}`),
      ];
      return `node ${n.id} (${what.join(', ')})`;
    })
    .join('; ');
}

/** POST /api/v1/nodes/from-bmc: read the identifiers, then create the expected record with its BMC, durably. */
export async function nodeFromBmc(ctx: CoreContext, req: NodeFromBmcRequest, deps: NodeDriverDeps = {}): Promise<FromBmcResult> {
  const b = req.bmc;
  if (b.password === undefined || b.password === '')
    throw ccError('CC_ERR_BAD_REQUEST', 'bmc.password: a new record needs the BMC password');
  const port = b.port ?? DEFAULT_BMC_PORT[b.driver];
  const where = `${b.driver === 'ipmi' ? 'IPMI' : 'Redfish'} BMC ${b.address}:${port}`;
  let pinned: string | null = null;
  const driver = createDriver(
    {
      driver: b.driver,
      address: b.address,
      port,
      username: b.username,
      password: b.password,
      system_path: b.driver === 'redfish' ? (b.system_path ?? null) : null,
      tls: b.tls ?? 'pin',
      tls_fingerprint: null,
      ipmi_cipher_suite: b.driver === 'ipmi' ? (b.ipmi_cipher_suite ?? null) : null,
    },
    // The first contact pins the certificate (trust on first use): it is the one the record keeps.
    { ...deps, timings: bmcTimings(ctx.settings.get()), onPinned: (fp) => (pinned = fp) },
  );
  const read = await readIdentity(driver, where);
  const { identity } = read;
  return durably(ctx, async () => {
    const found = holders(ctx, identity, null);
    if (found.length)
      throw ccError('CC_ERR_BMC_MACHINE_KNOWN', `${where} describes a machine already known: ${describeHolders(found, identity)}`);
    if (req.hostname && ctx.repo.all().some((n) => n.hostname === req.hostname))
      throw ccError('CC_ERR_BAD_REQUEST', `hostname: ${req.hostname} is another node's`);
    const now = ctx.now();
    const node = ctx.repo.create(
      {
        state: 'expected',
        macs: identity.macs,
        boot_mac: identity.macs[0] ?? null,
        uuid: identity.uuid,
        serial: identity.serial,
        hostname: req.hostname ?? null,
        hostname_locked: req.hostname !== undefined,
        manifest: {
          row: 0,
          source: `BMC ${b.address}`,
          imported_at: now.toISOString(),
          policy: null,
          ip: null,
          bmc_address: b.address,
          claimed_at: null,
          mismatch: [],
          origin: 'bmc',
        },
        // New machines wait for approval when it is required, whoever announced them (docs/identity.md 3).
        approved: !ctx.settings.get().approval_required,
        last_seen: null,
      },
      now,
    );
    node.bmc = { ...bmcRecordFromInput(node.id, { ...b, password: b.password! }, ctx.secrets), tls_fingerprint: pinned };
    await ctx.repo.save(node);
    emitCreated(ctx, node, node.bmc, read);
    return { node, ...read };
  });
}

/** The events of a record made from a BMC (never the password). */
function emitCreated(ctx: CoreContext, node: NodeDoc, b: BmcRecord, read: IdentityRead): void {
  const id = read.identity;
  const ids = [id.uuid && `uuid ${id.uuid}`, id.serial && `serial ${id.serial}`, ...id.macs.map((m) => `mac ${m}`)].filter(Boolean);
  ctx.events.emit('node.expected', {
    node_id: node.id,
    mac: node.boot_mac,
    message: `Expected from its BMC ${b.address}:${b.port}: ${ids.join(', ')}${read.warnings.length ? ` (${read.warnings.join('; ')})` : ''}`,
    data: { origin: 'bmc', identity: id, warnings: read.warnings },
  });
  ctx.events.emit('bmc.configured', {
    node_id: node.id,
    mac: node.boot_mac,
    message: `BMC set by the operator: ${b.driver} ${b.address}:${b.port} as ${b.username}${b.driver === 'redfish' ? ` (TLS ${b.tls})` : ''}`,
    data: { driver: b.driver, address: b.address, port: b.port, username: b.username, tls: b.tls, by: 'operator' },
  });
}

/**
 * POST /api/v1/nodes/ID/bmc/identify: an expected record (a manifest row) with a BMC set takes the identifiers
 * the BMC gives that it lacks. One another record holds is not taken (a warning names the holder); one that
 * differs from the row's is not replaced (the row is the operator's word; a warning says so).
 */
export async function identifyNodeBmc(ctx: CoreContext, id: number, deps: NodeDriverDeps = {}): Promise<FromBmcResult> {
  const n = ctx.repo.get(id);
  if (!n) throw ccError('CC_ERR_NOT_FOUND', `node ${id}`);
  if (!isUnclaimed(n))
    throw ccError('CC_ERR_BMC_NOT_EXPECTED', `node ${id} is ${n.manifest ? 'claimed by its machine' : 'not an expected record'}`);
  const rec = n.bmc;
  if (!rec) throw ccError('CC_ERR_BMC_NOT_CONFIGURED', `node ${id}: set its BMC first (PUT /api/v1/nodes/${id}/bmc)`);
  const where = `${rec.driver === 'ipmi' ? 'IPMI' : 'Redfish'} BMC ${rec.address}:${rec.port}`;
  const driver = createDriver(bmcTarget(id, rec, ctx.secrets), {
    ...deps,
    timings: bmcTimings(ctx.settings.get()),
    onPinned: (fp) => void recordPin(ctx, id, rec, fp).catch((e: unknown) => ctx.log.warn({ err: e }, 'storing a BMC pin failed')),
  });
  const read = await readIdentity(driver, where);
  return durably(ctx, async () => {
    const node = ctx.repo.get(id);
    if (!node || node.bmc !== rec || !isUnclaimed(node))
      throw ccError('CC_ERR_BMC_NOT_EXPECTED', `node ${id} changed while its BMC was read (claimed, removed or given another BMC)`);
    const got = read.identity;
    const warnings = [...read.warnings];
    const held = (field: 'uuid' | 'serial' | 'mac', v: string): boolean => {
      const h = holders(
        ctx,
        { uuid: field === 'uuid' ? v : null, serial: field === 'serial' ? v : null, macs: field === 'mac' ? [v] : [], sources: [] },
        id,
      );
      if (h.length) warnings.push(`${field} ${v} is node ${h[0]!.id}'s: not taken (docs/identity.md 1)`);
      return h.length > 0;
    };
    const keep = (field: 'uuid' | 'serial', v: string | null): void => {
      if (!v || node[field] === v || held(field, v)) return;
      if (node[field]) warnings.push(`the BMC's ${field} ${v} differs from the record's ${node[field]}: the record keeps its own`);
      else node[field] = v;
    };
    keep('uuid', got.uuid);
    keep('serial', got.serial);
    const macs = got.macs.filter((m) => !node.macs.includes(m) && !held('mac', m));
    node.macs = [...node.macs, ...macs];
    node.boot_mac = node.boot_mac ?? node.macs[0] ?? null;
    // Identifiers from the BMC now decide the claim: with MACs, only a machine showing one of them takes it.
    node.manifest = { ...node.manifest!, origin: 'bmc' };
    await ctx.repo.save(node);
    ctx.events.emit('node.expected', {
      node_id: id,
      mac: node.boot_mac,
      message: `Identifiers read from its BMC ${rec.address}:${rec.port}: ${[got.uuid && `uuid ${got.uuid}`, got.serial && `serial ${got.serial}`, ...got.macs.map((m) => `mac ${m}`)].filter(Boolean).join(', ')}${warnings.length ? ` (${warnings.join('; ')})` : ''}`,
      data: { origin: 'bmc', identity: got, warnings },
    });
    return { node, identity: got, warnings };
  });
}
