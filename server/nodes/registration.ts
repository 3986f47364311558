/**
 * The agent side of the protocol: register (facts in, identity merged, tags
 * evaluated, auto-binding) and check-in (commands out). Razor/Hanlon lineage.
 */
import type { CheckinRequest, CheckinResponse, RegisterRequest, RegisterResponse, Facts } from '../../contract/index.ts';
import { factsHash } from '../../contract/facts-hash.ts';
import type { CoreContext } from '../core/context.ts';
import { durably } from '../core/durably.ts';
import type { NodeDoc } from '../store/docs.ts';
import { canonicalMac, canonicalSerial, canonicalUuid, decideMatch } from './identity.ts';
import { hashToken, newToken } from './node-repo.ts';
import { summarize, platformFields } from './summary.ts';
import { autoBindLocked } from '../policies/binder.ts';
import { ccError } from '../errors/cc-error.ts';

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : 0);

/** Re-evaluate a node's tags; emits an event when they changed. */
export function retag(ctx: CoreContext, node: NodeDoc, facts: Facts): boolean {
  const tags = ctx.tags.evaluate(facts);
  if (tags.join('\0') === node.tags.join('\0')) return false;
  const added = tags.filter((t) => !node.tags.includes(t));
  const removed = node.tags.filter((t) => !tags.includes(t));
  node.tags = tags;
  ctx.events.emit('node.tags_changed', {
    node_id: node.id,
    mac: node.boot_mac,
    message: `Tags now: ${tags.join(', ') || '(none)'}`,
    data: { added, removed },
  });
  return true;
}

/** Handle POST /api/v1/register. */
export function register(ctx: CoreContext, req: RegisterRequest, ip: string | null): Promise<RegisterResponse> {
  const macs = [...new Set(req.macs.map(canonicalMac).filter((m): m is string => m !== null))];
  if (macs.length === 0) throw ccError('CC_ERR_BAD_REQUEST', 'macs: no usable MAC address (all-zero and broadcast are ignored)');
  return durably(ctx, async () => {
    const owner = ctx.repo.byToken(req.token);
    if (!owner || (req.node_id !== undefined && owner.id !== req.node_id && ctx.repo.get(req.node_id)))
      throw ccError(
        'CC_ERR_FORBIDDEN',
        'the token is unknown or belongs to another node; reboot the node so it boots the microkernel with a fresh token',
      );
    const uuid = canonicalUuid(req.uuid ?? (req.facts.uuid as string | undefined));
    const serial = canonicalSerial(req.serial ?? (req.facts.serialnumber as string | undefined));
    const candidates = [owner, ...ctx.repo.candidates(macs, uuid, serial).filter((c) => c.id !== owner.id)];
    const decision = decideMatch(
      { macs, uuid, serial },
      owner.id,
      candidates.map((c) => ({ id: c.id, macs: c.macs, uuid: c.uuid, serial: c.serial, registered: c.registered_at !== null })),
    );
    const node = ctx.repo.get(decision.target ?? owner.id)!;
    for (const id of decision.absorb) {
      const other = ctx.repo.get(id)!;
      node.macs = [...new Set([...node.macs, ...other.macs])];
      await ctx.repo.remove(id);
      await ctx.store.facts.remove({ _id: String(id) });
      ctx.events.emit('node.merged', {
        node_id: node.id,
        mac: other.boot_mac,
        message: `Boot-time record ${id} merged into node ${node.id}`,
        data: { merged: id },
      });
    }
    for (const c of decision.conflicts)
      ctx.events.emit('node.conflict', {
        node_id: node.id,
        mac: node.boot_mac,
        message: `Node ${c.node_id} claims the same ${c.field} ${c.value}; both kept, check the hardware`,
        data: { ...c },
      });

    const facts = req.facts;
    const hash = factsHash(facts);
    const first = node.registered_at === null;
    const changed = !first && hash !== node.facts_hash;
    const now = ctx.now().toISOString();
    node.macs = [...new Set([...node.macs, ...macs])];
    node.uuid = uuid ?? node.uuid;
    node.serial = serial ?? node.serial;
    const pf = platformFields(facts, req.inventory ?? null);
    node.manufacturer = pf.manufacturer ?? node.manufacturer;
    node.product = pf.product ?? node.product;
    node.boot_mode = pf.boot_mode ?? node.boot_mode;
    node.summary = summarize(facts, req.inventory ?? null);
    node.facts_hash = hash;
    node.registered_at = now;
    node.last_seen = now;
    node.ip = ip ?? node.ip;
    node.agent_active = true;
    if (node.state === 'lost') {
      node.state = node.state_before_lost ?? 'registered';
      delete node.state_before_lost;
    }
    if (node.state === 'discovered' || node.state === 'booting-microkernel') node.state = 'registered';
    const token = newToken();
    node.agent_token_hash = hashToken(token);
    node.enrol_token_hash = null;
    retag(ctx, node, facts);
    await ctx.store.facts.put({ _id: String(node.id), facts, inventory: req.inventory ?? null, updated_at: now });
    await ctx.repo.save(node);
    if (first)
      ctx.events.emit('node.registered', {
        node_id: node.id,
        mac: node.boot_mac,
        message: `Registered: ${node.manufacturer ?? '?'} ${node.product ?? ''} serial ${node.serial ?? '?'}`.trim(),
        data: { macs: node.macs, summary: node.summary },
      });
    else if (changed)
      ctx.events.emit('node.facts_changed', {
        node_id: node.id,
        mac: node.boot_mac,
        message: 'Facts changed; re-registered',
        data: { facts_hash: hash },
      });
    await autoBindLocked(ctx, node);
    return { node_id: node.id, agent_token: token, config: ctx.settings.agentConfig() };
  });
}

/** Handle POST /api/v1/checkin. */
export async function checkin(ctx: CoreContext, req: CheckinRequest): Promise<CheckinResponse> {
  const config = ctx.settings.agentConfig();
  const node = ctx.repo.get(req.node_id);
  if (!node) return { command: 'register', config };
  if (node.agent_token_hash !== hashToken(req.agent_token)) {
    if (ctx.repo.byToken(req.agent_token)?.id === node.id) return { command: 'register', config };
    throw ccError('CC_ERR_FORBIDDEN', `agent token does not match node ${req.node_id}; reboot the node to enrol again`);
  }
  const nowDate = ctx.now();
  const now = nowDate.toISOString();
  const silentFor = nowDate.getTime() - ms(node.last_seen);
  node.last_seen = now;
  node.agent_active = true;
  if (node.state === 'lost') {
    node.state = node.state_before_lost ?? 'registered';
    delete node.state_before_lost;
    ctx.events.emit('node.found', { node_id: node.id, mac: node.boot_mac, message: 'Checking in again', data: {} });
    await ctx.repo.save(node);
  } else ctx.repo.touch(node);
  // One event per boot (the first check-in), not per check-in: the timeline shows when the agent came up.
  if (req.first_checkin)
    ctx.events.emit('node.checkin', {
      node_id: node.id,
      mac: node.boot_mac,
      message: 'First check-in after boot',
      data: { state: req.state },
    });

  // The agent refused a pushed server_url on another host (a MITM or a misconfiguration): tell the operator.
  if (req.config_refused)
    ctx.events.emit('node.config_refused', {
      node_id: node.id,
      mac: node.boot_mac,
      message: `The agent refused to move to ${req.config_refused.server_url} (not the appliance it booted from)`,
      data: { server_url: req.config_refused.server_url, count: req.config_refused.count },
    });
  const s = ctx.settings.get();
  let command: CheckinResponse['command'] = 'acknowledge';
  if (node.pending_command) {
    command = node.pending_command;
    node.pending_command = null;
    await ctx.repo.save(node);
    ctx.events.emit(command === 'reboot' ? 'node.reboot_sent' : 'node.poweroff_sent', {
      node_id: node.id,
      mac: node.boot_mac,
      message: `Told the agent to ${command}`,
      data: {},
    });
  } else if (node.policy && node.state === 'bound') {
    command = 'reboot';
    if (!node.reboot_sent_at) {
      node.reboot_sent_at = now;
      ctx.repo.touch(node);
      ctx.events.emit('node.reboot_sent', {
        node_id: node.id,
        mac: node.boot_mac,
        message: `Told the agent to reboot into policy ${node.policy}`,
        data: { policy: node.policy },
      });
    }
  } else if (
    (req.first_checkin && ms(node.registered_at) < ms(node.last_boot_at)) ||
    req.facts_hash !== node.facts_hash ||
    silentFor > s.reregister_after_s * 1000
  )
    command = 'register';
  return { command, config };
}
