/**
 * Preview and import of a rack manifest against the running core. The import plans again under the core
 * lock (the preview may be stale), refuses the whole file when a row has an error or conflict unless told
 * to skip those, then creates `expected` records and updates matched ones, durably.
 */
import type { ManifestPlan, ManifestRequest } from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import { durably } from '../core/durably.ts';
import type { NodeDoc } from '../store/docs.ts';
import { poolsFor } from '../dhcp/pools.ts';
import { poolFor } from '../dhcp/lease-table.ts';
import { autoBindLocked } from '../policies/binder.ts';
import { refreshTags } from '../tags/retag.ts';
import { setStaticIp } from '../nodes/static-ip.ts';
import { CcError, ccError } from '../errors/cc-error.ts';
import { markDuplicates, manifestText, readCsvManifest, readJsonManifest, type ManifestFile, type ManifestRow } from './rows.ts';
import { planManifest, type PlanWorld, type PlannedRow } from './plan.ts';
import '../nodes/operator-fields.ts';
import './held-claim.ts';

/** Read and check the file of a request. */
export function readManifest(req: ManifestRequest): ManifestFile {
  const text = manifestText(req.content, req.content_base64);
  const file = req.format === 'csv' ? readCsvManifest(text) : readJsonManifest(text);
  markDuplicates(file.rows);
  return file;
}

/** The planning view of the running core. */
export function coreWorld(ctx: CoreContext): PlanWorld {
  const pools = poolsFor(ctx.config);
  return {
    candidates: (macs, uuid, serial) => ctx.repo.candidates(macs, uuid, serial),
    policyExists: (name) => ctx.policies.get(name) !== undefined,
    ipHolder: (ip) => ctx.repo.all().find((d) => d.ip_reserved === ip)?.id ?? null,
    reservedTo: (ip) => ctx.reservations.macForReservedIp(ip),
    ipProblem: (ip) => {
      if (pools.length === 0) return null;
      if (ip === ctx.config.address?.ip) return "it is the appliance's own address";
      return poolFor(pools, ip) ? null : 'it is outside every subnet DHCP serves';
    },
    hostnameHolder: (h) => ctx.repo.all().find((d) => d.hostname === h)?.id ?? null,
  };
}

/** What a preview answers. */
export function previewManifest(ctx: CoreContext, req: ManifestRequest): ManifestPlan {
  return planManifest(readManifest(req), coreWorld(ctx)).plan;
}

/** The manifest link a row gives a record. */
function link(r: ManifestRow, source: string, now: string, claimedAt: string | null): NonNullable<NodeDoc['manifest']> {
  return {
    row: r.row,
    source,
    imported_at: now,
    policy: r.policy,
    ip: r.ip,
    bmc_address: r.bmc_address,
    claimed_at: claimedAt,
    mismatch: [],
  };
}

/** Give a record its static address; a reservation the DHCP side refuses is a warning, the address stays for the OS. */
async function address(ctx: CoreContext, node: NodeDoc, ip: string, warnings: string[]): Promise<void> {
  try {
    const note = await setStaticIp(ctx, node, ip);
    if (note) warnings.push(note);
  } catch (e) {
    if (!(e instanceof CcError)) throw e;
    node.ip_reserved = ip;
    warnings.push(`DHCP reservation not made: ${e.message}`);
  }
}

/** Apply one planned row (create or update); the node is saved by the caller's durable pass. */
async function applyRow(ctx: CoreContext, p: PlannedRow, source: string, now: string): Promise<NodeDoc> {
  const r = p.input;
  if (p.target === null) {
    const node = ctx.repo.create(
      {
        state: 'expected',
        macs: r.macs,
        boot_mac: r.macs[0] ?? null,
        serial: r.serial,
        uuid: r.uuid,
        hostname: r.hostname,
        hostname_locked: r.hostname !== null,
        metadata: { ...r.metadata },
        manifest: link(r, source, now, null),
        // New machines wait for approval when it is required, whoever announced them (docs/identity.md 3).
        approved: !ctx.settings.get().approval_required,
        last_seen: null,
      },
      ctx.now(),
    );
    if (r.ip) await address(ctx, node, r.ip, p.result.warnings);
    await ctx.repo.save(node);
    return node;
  }
  const node = ctx.repo.get(p.target.id)!;
  if (r.hostname) {
    node.hostname = r.hostname;
    node.hostname_locked = true;
  }
  node.serial = node.serial ?? r.serial;
  node.uuid = node.uuid ?? r.uuid;
  node.macs = [...new Set([...node.macs, ...r.macs])];
  node.boot_mac = node.boot_mac ?? node.macs[0] ?? null;
  // While a claim is held, what the row lists is remembered apart from what the machine brought (held-claim.ts).
  const held = node.manifest_held_row;
  if (held)
    node.manifest_held_row = {
      ...held,
      macs: [...new Set([...held.macs, ...r.macs])],
      uuid: held.uuid ?? r.uuid,
      serial: held.serial ?? r.serial,
    };
  node.metadata = { ...node.metadata, ...r.metadata };
  // A record that was seen before (by DHCP, /boot or a registration) is a machine that has arrived.
  const claimedAt = node.manifest?.claimed_at ?? (node.state === 'expected' ? null : now);
  node.manifest = { ...link(r, source, now, claimedAt), mismatch: node.manifest?.mismatch ?? [] };
  if (r.ip && r.ip !== node.ip_reserved) await address(ctx, node, r.ip, p.result.warnings);
  await refreshTags(ctx, node);
  await ctx.repo.save(node);
  await autoBindLocked(ctx, node);
  return node;
}

/** Import: plan under the lock, refuse or skip bad rows, apply the rest. */
export function importManifest(ctx: CoreContext, req: ManifestRequest): Promise<ManifestPlan> {
  const file = readManifest(req);
  const source = req.source?.trim().slice(0, 255) || 'api';
  return durably(ctx, async () => {
    const { plan, rows } = planManifest(file, coreWorld(ctx));
    const bad = rows.filter((r) => r.result.action === 'conflict' || r.result.action === 'error');
    if (bad.length && !req.skip_invalid)
      throw ccError(
        'CC_ERR_MANIFEST_ROWS',
        `${bad.length} row(s) cannot be imported (rows ${bad
          .slice(0, 10)
          .map((r) => r.result.row)
          .join(', ')}${bad.length > 10 ? ', ...' : ''}); nothing was imported`,
      );
    const now = ctx.now().toISOString();
    for (const p of rows) {
      if (p.result.action !== 'create' && p.result.action !== 'update') continue;
      const node = await applyRow(ctx, p, source, now);
      p.result.node_id = node.id;
      ctx.events.emit('node.expected', {
        node_id: node.id,
        mac: node.boot_mac,
        message: `${p.result.action === 'create' ? 'Expected from' : 'Updated by'} manifest ${source} row ${p.input.row}: ${p.result.changes.join(', ')}`,
        data: { row: p.input.row, source, action: p.result.action, changes: p.result.changes },
      });
    }
    ctx.events.emit('manifest.imported', {
      message: `Manifest ${source}: ${plan.counts.create} expected, ${plan.counts.update} updated, ${plan.counts.unchanged} unchanged, ${bad.length} skipped`,
      data: { source, counts: plan.counts },
    });
    return { ...plan, applied: true, rows: rows.map((r) => r.result) };
  });
}
