/**
 * The agent side of the protocol: register (facts in, identifiers claimed, tags
 * evaluated, auto-binding) and check-in (commands out). Razor/Hanlon lineage.
 */
import type { CheckinRequest, CheckinResponse, RegisterRequest, RegisterResponse } from '../../contract/index.ts';
import { factsHash } from '../../contract/facts-hash.ts';
import type { CoreContext } from '../core/context.ts';
import { durably } from '../core/durably.ts';
import type { NodeDoc } from '../store/docs.ts';
import { canonicalMac, canonicalSerial, canonicalUuid, decideClaims } from './identity.ts';
import { recordConflicts } from './conflicts.ts';
import { addressBelongsToNode, plainIp } from './node-address.ts';
import { clearEnrolment, isLiveEnrolment, refused, sameHash } from './tokens.ts';
import { hashToken, newToken } from './token-digest.ts';
import { summarize, platformFields } from './summary.ts';
import { autoBindLocked } from '../policies/binder.ts';
import { ccError } from '../errors/cc-error.ts';
import { withEnrolmentRequest } from '../bmc/enrolment/enrol-request.ts';
import { jobAtCheckin, microkernelPolicy } from '../deploy/task-flow.ts';
import { keepBurnInFacts } from '../deploy/burnin-facts.ts';
import { retag, refreshTags } from '../tags/retag.ts';
import { claimManifest } from '../manifest/claim.ts';

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : 0);

/**
 * Handle POST /api/v1/register. The token names the node (an agent token rotates itself, an enrolment
 * token enrols the node it was minted for); what the node reports is claimed, never taken from another
 * record (docs/identity.md 1).
 */
export function register(ctx: CoreContext, req: RegisterRequest, ip: string): Promise<RegisterResponse> {
  const macs = [...new Set(req.macs.map(canonicalMac).filter((m): m is string => m !== null))];
  if (macs.length === 0) throw ccError('CC_ERR_BAD_REQUEST', 'macs: no usable MAC address (all-zero and broadcast are ignored)');
  return durably(ctx, async (defer) => {
    const holder = ctx.repo.byToken(req.token);
    if (!holder || (req.node_id !== undefined && holder.id !== req.node_id && ctx.repo.get(req.node_id)))
      throw ccError(
        'CC_ERR_FORBIDDEN',
        'the token is unknown or belongs to another node; reboot the node so it boots the microkernel with a fresh token',
      );
    const uuid = canonicalUuid(req.uuid ?? (req.facts.uuid as string | undefined));
    const serial = canonicalSerial(req.serial ?? (req.facts.serialnumber as string | undefined));
    const before = ctx.repo.candidates(macs, uuid, serial).filter((c) => c.id !== holder.id);
    if (!sameHash(holder.agent_token_hash, hashToken(req.token))) {
      if (!isLiveEnrolment(ctx, holder, req.token))
        throw refused(ctx, holder, ip, `enrolment token of node ${holder.id} expired (enrol_token_ttl_s); reboot the node for a fresh one`);
      // The microkernel brings up every NIC and may route through any: a NIC nobody else holds may register
      // from its own lease, but only when the token itself went to an address of this node.
      const unheld = decideClaims({ macs, uuid, serial }, before).macs;
      const fresh = holder.enrol_token_verified ? unheld.filter((m) => !holder.macs.includes(m)) : [];
      if (!(await addressBelongsToNode(ctx, holder, ip, fresh)))
        throw refused(
          ctx,
          holder,
          ip,
          `enrolment token of node ${holder.id} presented from ${plainIp(ip)}, which is not leased or reserved to it`,
        );
    }
    // A machine the rack manifest expects takes its record (docs/manifest.md): from here on it is that record.
    const node = await claimManifest(ctx, holder, { macs, uuid, serial }, 'registration');
    const claim = decideClaims(
      { macs, uuid, serial },
      ctx.repo.candidates(macs, uuid, serial).filter((c) => c.id !== node.id),
    );
    node.macs = [...new Set([...node.macs, ...claim.macs])];
    node.uuid = claim.uuid ?? node.uuid;
    node.serial = claim.serial ?? node.serial;
    recordConflicts(ctx, node, claim.overlaps);

    // The hash is of what the agent sent (it compares its own at check-in); burn-in facts are the appliance's.
    const hash = factsHash(req.facts);
    const facts = keepBurnInFacts(req.facts, (await ctx.store.facts.findOne({ _id: String(node.id) }))?.facts);
    const first = node.registered_at === null;
    const changed = !first && hash !== node.facts_hash;
    const now = ctx.now().toISOString();
    const pf = platformFields(facts, req.inventory ?? null);
    node.manufacturer = pf.manufacturer ?? node.manufacturer;
    node.product = pf.product ?? node.product;
    node.boot_mode = pf.boot_mode ?? node.boot_mode;
    node.summary = summarize(facts, req.inventory ?? null);
    node.facts_hash = hash;
    const wasPartial = node.facts_complete === false;
    node.facts_complete = req.facts_complete !== false;
    node.registered_at = now;
    node.last_seen = now;
    node.ip = plainIp(ip);
    node.agent_active = true;
    // What it registered with: the UI finds nodes discovered by an older image than the one served now.
    node.agent_version = req.agent_version ?? null;
    node.microkernel_version = req.microkernel_version ?? null;
    if (node.state === 'lost') {
      node.state = node.state_before_lost ?? 'registered';
      delete node.state_before_lost;
    }
    if (node.state === 'discovered' || node.state === 'booting-microkernel') node.state = 'registered';
    const token = newToken();
    node.agent_token_hash = hashToken(token);
    clearEnrolment(node);
    retag(ctx, node, facts);
    // Both writes are queued now, in order (the repo's in-memory index changes at once, so the next holder of the
    // lock decides on it); they land and are fsynced after the lock is released (core/durably.ts).
    defer(ctx.store.facts.put({ _id: String(node.id), facts, inventory: req.inventory ?? null, updated_at: now }));
    defer(ctx.repo.save(node));
    if (first)
      ctx.events.emit('node.registered', {
        node_id: node.id,
        mac: node.boot_mac,
        message: `Registered: ${node.manufacturer ?? '?'} ${node.product ?? ''} serial ${node.serial ?? '?'}`.trim(),
        data: { macs: node.macs, summary: node.summary },
      });
    // Within the node's budget: its agent chooses the facts, so it could change them on every register.
    else if (changed)
      ctx.guard.nodeEvent(node.id, 'node.facts_changed', {
        node_id: node.id,
        mac: node.boot_mac,
        message: wasPartial ? 'The slow facts arrived (lshw, BMC, LLDP); rules may bind it now' : 'Facts changed; re-registered',
        data: { facts_hash: hash, facts_complete: node.facts_complete },
      });
    await autoBindLocked(ctx, node);
    return { node_id: node.id, agent_token: token, config: ctx.settings.agentConfig() };
  });
}

/**
 * Handle POST /api/v1/checkin. The common answer needs no lock and no write beyond last_seen. Handing
 * out a queued command is a state change: it runs under the core lock and is on disk before the answer
 * leaves, so neither two concurrent check-ins nor a crash after the answer deliver it twice.
 */
export async function checkin(ctx: CoreContext, req: CheckinRequest): Promise<CheckinResponse> {
  const config = ctx.settings.agentConfig();
  const node = ctx.repo.get(req.node_id);
  if (!node) return { command: 'register', config };
  if (!sameHash(node.agent_token_hash, hashToken(req.agent_token))) {
    if (ctx.repo.byToken(req.agent_token)?.id === node.id) return { command: 'register', config };
    throw ccError('CC_ERR_FORBIDDEN', `agent token does not match node ${req.node_id}; reboot the node to enrol again`);
  }
  // The agent refused a pushed server_url on another host (a MITM or a misconfiguration): tell the operator,
  // within the node's event budget (a hostile agent could send a new URL every check-in).
  if (req.config_refused)
    ctx.guard.nodeEvent(node.id, 'node.config_refused', {
      node_id: node.id,
      mac: node.boot_mac,
      message: `The agent refused to move to ${req.config_refused.server_url} (not the appliance it booted from)`,
      data: { server_url: req.config_refused.server_url, count: req.config_refused.count },
    });
  // Bound to a task the agent carries out here (image-deploy, erase, burn-in): the job, not a reboot.
  if (!node.pending_command && node.state !== 'lost' && microkernelPolicy(ctx, node)) {
    const job = await jobAtCheckin(ctx, node.id, req.agent_token);
    if (job) return { command: 'run-task', config, job };
  }
  // The answer may also ask the agent to enrol its BMC in-band (docs/bmc.md).
  if (!node.pending_command && node.state !== 'lost') return withEnrolmentRequest(ctx, node, { command: answer(ctx, node, req), config });
  return durably(ctx, async () => {
    // Re-read under the lock: another check-in may have taken the command meanwhile.
    const n = ctx.repo.get(req.node_id);
    if (!n || !sameHash(n.agent_token_hash, hashToken(req.agent_token))) return { command: 'register' as const, config };
    if (n.state === 'lost') {
      n.state = n.state_before_lost ?? 'registered';
      delete n.state_before_lost;
      await refreshTags(ctx, n);
      ctx.events.emit('node.found', { node_id: n.id, mac: n.boot_mac, message: 'Checking in again', data: {} });
    }
    const command = n.pending_command;
    n.pending_command = null;
    const result = command ?? answer(ctx, n, req);
    await ctx.repo.save(n);
    if (command)
      ctx.events.emit(command === 'reboot' ? 'node.reboot_sent' : 'node.poweroff_sent', {
        node_id: n.id,
        mac: n.boot_mac,
        message: `Told the agent to ${command}`,
        data: {},
      });
    return { command: result, config };
  });
}

/** The answer to a check-in with no queued command (updates last_seen; no lock needed: nothing awaits). */
function answer(ctx: CoreContext, node: NodeDoc, req: CheckinRequest): CheckinResponse['command'] {
  const nowDate = ctx.now();
  const now = nowDate.toISOString();
  const silentFor = nowDate.getTime() - ms(node.last_seen);
  node.last_seen = now;
  node.agent_active = true;
  ctx.repo.touch(node);
  // One event per boot (the first check-in), not per check-in: the timeline shows when the agent came up. The agent
  // says which check-in is the first, so the node's budget bounds how often it may say so.
  if (req.first_checkin)
    ctx.guard.nodeEvent(node.id, 'node.checkin', {
      node_id: node.id,
      mac: node.boot_mac,
      message: 'First check-in after boot',
      data: { state: req.state },
    });
  if (node.policy && node.state === 'bound') {
    if (!node.reboot_sent_at) {
      node.reboot_sent_at = now;
      ctx.events.emit('node.reboot_sent', {
        node_id: node.id,
        mac: node.boot_mac,
        message: `Told the agent to reboot into policy ${node.policy}`,
        data: { policy: node.policy },
      });
    }
    return 'reboot';
  }
  const s = ctx.settings.get();
  if (
    (req.first_checkin && ms(node.registered_at) < ms(node.last_boot_at)) ||
    req.facts_hash !== node.facts_hash ||
    silentFor > s.reregister_after_s * 1000
  )
    return 'register';
  return 'acknowledge';
}
