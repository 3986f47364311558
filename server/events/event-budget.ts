/**
 * A budget of events the rack causes: how many a minute go into the event log. Used where an event's source is not
 * worth trusting or too cheap to forge (a DHCP packet, a TFTP datagram, the node plane's many addresses), so the
 * budget is not per source: there are two buckets, one for events of known nodes and one for everyone else's, so a
 * flood of strangers cannot keep the nodes' boot steps out of the history. Past a bucket, the event is still published
 * live (what the appliance does on it, such as the chain recorder and proxy-mode router advertisements, still happens)
 * and counted instead of recorded. Budgets: per-packet DHCP events (server/dhcp/handler.ts `record`, inline on the hot
 * path), TFTP transfer events and the node plane's ceiling over all sources (budgeted-events.ts).
 *
 * Pure and allocation-free: numbers in fields, the clock and the limit passed in. It runs for every DHCP packet.
 */
import { refilled } from '../nodes/token-bucket.ts';

/** What `take` decided. */
export const BUDGET = {
  /** Within the budget: record the event. */
  PASS: 0,
  /** Over it: count the event, do not record it. */
  DROP: 1,
  /** Over it, and the first one of this flood: record a summary that the limit tripped. */
  TRIPPED: 2,
  /** Within it again after a flood: record a summary with what was counted. */
  RECOVERED: 3,
  /** Still over it a minute after the last summary: record one with what was counted since. */
  STILL: 4,
} as const;
export type BudgetDecision = (typeof BUDGET)[keyof typeof BUDGET];

/**
 * The limit the handler reads for every event: an object of one shape for the real handler and the warm start's
 * (plugin.ts sets the real one's from the setting for every datagram), so the code V8 optimises in the warm start
 * reads the same field of the same shape afterwards.
 */
export interface EventLimit {
  /** Events recorded a minute, per bucket; 0 lifts the limit. */
  perMin: number;
}

/** A flood is over once its bucket holds this share of a minute's allowance again (half a minute without a flood). */
const RECOVER_SHARE = 0.5;
/** While tripped, a summary of what was counted at most this often. */
export const SUMMARY_EVERY_MS = 60_000;

/** Fields of a bucket in `EventBudget`'s array. */
const TOKENS = 0;
const AT = 1;
const TRIPPED = 2;
const SUMMARY_AT = 3;
const COUNTED = 4;
const FIELDS = 5;

/** The two buckets, their state in one typed array (nothing allocated per packet). */
export class EventBudget {
  /** Bucket 0: packets of known nodes; bucket 1: everyone else's. Tokens -1: never used (starts full). */
  private readonly s = new Float64Array(2 * FIELDS);

  constructor() {
    this.s[TOKENS] = -1;
    this.s[FIELDS + TOKENS] = -1;
  }

  /**
   * One event of a packet of a known node (`node`) or of anyone else, at `now` ms, with `perMin` events a minute
   * allowed in each bucket (0 lifts the limit). A bucket starts full: a minute's allowance passes as a burst.
   */
  take(node: boolean, perMin: number, now: number): BudgetDecision {
    const s = this.s;
    const b = node ? 0 : FIELDS;
    if (perMin <= 0) {
      if (s[b + TRIPPED] === 0) return BUDGET.PASS;
      s[b + TRIPPED] = 0;
      return BUDGET.RECOVERED;
    }
    const t = refill(s[b + TOKENS]!, s[b + AT]!, perMin, now);
    s[b + AT] = now;
    if (t >= 1) {
      s[b + TOKENS] = t - 1;
      if (s[b + TRIPPED] === 0 || t - 1 < perMin * RECOVER_SHARE) return BUDGET.PASS;
      s[b + TRIPPED] = 0;
      return BUDGET.RECOVERED;
    }
    s[b + TOKENS] = t;
    if (s[b + TRIPPED] === 0) {
      s[b + TRIPPED] = 1;
      s[b + SUMMARY_AT] = now;
      s[b + COUNTED] = 1;
      return BUDGET.TRIPPED;
    }
    s[b + COUNTED] = s[b + COUNTED]! + 1;
    if (now - s[b + SUMMARY_AT]! < SUMMARY_EVERY_MS) return BUDGET.DROP;
    s[b + SUMMARY_AT] = now;
    return BUDGET.STILL;
  }

  /** Events of a bucket counted and not recorded since its last summary. */
  counted(node: boolean): number {
    return this.s[(node ? 0 : FIELDS) + COUNTED]!;
  }

  /** A summary with the count was recorded: the count starts again. */
  resetCount(node: boolean): void {
    this.s[(node ? 0 : FIELDS) + COUNTED] = 0;
  }
}

/** Tokens after refilling since `at` (token-bucket.ts `refilled`); a bucket never used (tokens < 0) starts full. */
function refill(tokens: number, at: number, perMin: number, now: number): number {
  return tokens < 0 ? perMin : refilled(tokens, at, perMin, now);
}

/** What a budget's summaries call its events, its buckets and its setting. */
export interface BudgetNames {
  /** `node.suppressed` data.kind. */
  kind: 'dhcp_events' | 'tftp_events' | 'node_events';
  /** What is counted, in the messages ("DHCP packet events"). */
  noun: string;
  /** `node.suppressed` data.source of the two buckets: known nodes' first, then everyone else's. */
  sources: readonly [string, string];
  /** The setting that sets the limit, named in the messages. */
  setting: string;
}

/** The `node.suppressed` event of a budget's summary (TRIPPED, STILL or RECOVERED), `n` events counted since the last. */
export function suppressedEvent(
  names: BudgetNames,
  decision: BudgetDecision,
  node: boolean,
  perMin: number,
  n: number,
): { message: string; data: { kind: BudgetNames['kind']; source: string; tripped: boolean; dropped?: number } } {
  const who = node ? 'known nodes' : 'machines that are not nodes';
  const source = names.sources[node ? 0 : 1];
  if (decision === BUDGET.TRIPPED)
    return {
      message: `Limit reached: more than ${perMin} ${names.noun} per minute from ${who}; the rest are counted, not recorded (setting ${names.setting})`,
      data: { kind: names.kind, source, tripped: true },
    };
  return {
    message:
      decision === BUDGET.STILL
        ? `Limit still reached: ${n} ${names.noun} from ${who} counted, not recorded, in the last minute (setting ${names.setting})`
        : `Limit over: ${n} ${names.noun} from ${who} were counted, not recorded`,
    data: { kind: names.kind, source, dropped: n, tripped: decision === BUDGET.STILL },
  };
}
