/**
 * Power many nodes through their BMCs: a concurrency limit (a management
 * network of embedded BMCs is slow) and a stagger between machines that start
 * (a rack whose 40 power supplies draw inrush current at once trips its
 * breaker). Each node gets one result; nothing one node does fails another.
 * A refused boot-device request is a warning on that node, not a failure:
 * the machine's own boot order still applies, and the power action goes on.
 */
import type { PowerAction, PowerNodeResult } from '../../contract/index.ts';
import type { EventSink } from '../events/event-log.ts';
import { CcError } from '../errors/cc-error.ts';
import { realSleep, type BmcDriver, type BootRequest, type Sleep } from './driver.ts';

/** One node to act on. */
export interface PowerJob {
  node_id: number;
  mac?: string | null;
  /** Build the node's driver (this opens its sealed password); a failure becomes this node's result. */
  open(): BmcDriver | Promise<BmcDriver>;
  /** This node's boot request, when it differs from the bulk one (its own firmware mode). */
  boot?: BootRequest;
}

/** What to do and how fast. */
export interface BulkPowerOptions {
  action: PowerAction;
  /** Set the next boot device first (then power on right away: IPMI forgets a one-time device after 60 s). */
  boot?: BootRequest;
  /** Nodes handled at once (>= 1). */
  concurrency: number;
  /** Minimum time between two machines starting (on, cycle, reset), in ms. */
  staggerMs: number;
  sleep?: Sleep;
  /** Where `bmc.action` / `bmc.warning` / `bmc.error` / `bmc.tls_changed` events go; none for quiet polling. */
  events?: EventSink;
}

/** Actions that may start a machine, and so draw inrush current. */
const STARTS: ReadonlySet<PowerAction> = new Set(['on', 'cycle', 'reset']);

/** A gate that lets one caller through every `ms`: the first at once, each next one `ms` after the previous. */
function staggerGate(ms: number, sleep: Sleep): () => Promise<void> {
  let last: Promise<void> = Promise.resolve();
  let first = true;
  return () => {
    const mine = first ? last : last.then(() => sleep(ms));
    first = false;
    last = mine;
    return mine;
  };
}

/** The message and the fix, for a result's `reason`. */
function describe(e: unknown): { code: string; reason: string; details: Record<string, unknown> } {
  if (e instanceof CcError) return { code: e.code, reason: `${e.message} (fix: ${e.fix})`, details: e.details };
  return { code: 'CC_ERR_INTERNAL', reason: e instanceof Error ? e.message : String(e), details: {} };
}

/** Run `o.action` on every job; results come back in the order of `jobs`. */
export async function runBulkPower(jobs: readonly PowerJob[], o: BulkPowerOptions): Promise<PowerNodeResult[]> {
  const sleep = o.sleep ?? realSleep;
  const gate = STARTS.has(o.action) && o.staggerMs > 0 ? staggerGate(o.staggerMs, sleep) : async () => {};
  const results: PowerNodeResult[] = new Array(jobs.length);
  let next = 0;

  type Outcome = { r: PowerNodeResult; details: Record<string, unknown> };
  const one = async (job: PowerJob): Promise<Outcome> => {
    const warnings: string[] = [];
    let driver: BmcDriver | null = null;
    const boot = job.boot ?? o.boot;
    try {
      driver = await job.open();
      if (boot) {
        try {
          warnings.push(...(await driver.setBootDevice(boot)).warnings);
        } catch (e) {
          if (!(e instanceof CcError) || e.code !== 'CC_ERR_BMC_REFUSED') throw e;
          warnings.push(`boot device ${boot.device} not set: ${e.message}; the machine boots by its own boot order`);
        }
      }
      await gate();
      const out = await driver.power(o.action);
      warnings.push(...out.warnings);
      return { r: { node_id: job.node_id, ok: true, power: out.power, ...(warnings.length ? { warnings } : {}) }, details: {} };
    } catch (e) {
      const d = describe(e);
      return {
        r: { node_id: job.node_id, ok: false, code: d.code, reason: d.reason, ...(warnings.length ? { warnings } : {}) },
        details: d.details,
      };
    } finally {
      await driver?.close().catch(() => {});
    }
  };

  const report = (job: PowerJob, r: PowerNodeResult, details: Record<string, unknown>) => {
    const ev = o.events;
    if (!ev) return;
    const boot = job.boot ?? o.boot;
    const base = { node_id: job.node_id, mac: job.mac ?? null };
    for (const w of r.warnings ?? []) ev.emit('bmc.warning', { ...base, message: `power ${o.action}: ${w}`, data: { action: o.action } });
    if (r.ok)
      ev.emit('bmc.action', {
        ...base,
        message: `power ${o.action}${boot ? ` (next boot ${boot.device})` : ''}: done, power ${r.power}`,
        data: { action: o.action, boot: boot ?? null, power: r.power, warnings: r.warnings ?? [] },
      });
    else {
      ev.emit('bmc.error', { ...base, message: `power ${o.action} failed: ${r.reason}`, data: { action: o.action, code: r.code } });
      if (r.code === 'CC_ERR_BMC_TLS_CHANGED')
        ev.emit('bmc.tls_changed', {
          ...base,
          message: `BMC certificate changed; refused: ${r.reason}`,
          data: { expected: details['expected'], presented: details['presented'] },
        });
    }
  };

  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      const job = jobs[i]!;
      const { r, details } = await one(job);
      results[i] = r;
      report(job, r, details);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, jobs.length)) }, worker));
  return results;
}
