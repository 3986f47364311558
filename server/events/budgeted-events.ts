/**
 * Events the rack causes, recorded within a budget (event-budget.ts: two buckets, events of known nodes and everyone
 * else's); past it published live to the listeners the appliance acts on (the chain recorder) and counted. The TFTP
 * server's transfer events and the node plane's ceiling over all sources use it; the DHCP handler runs the same
 * budget inline on its per-packet path (server/dhcp/handler.ts `record`), whose shapes its warm start trains.
 */
import type { EventType } from '../../contract/index.ts';
import { BUDGET, EventBudget, suppressedEvent, type BudgetDecision, type BudgetNames } from './event-budget.ts';
import type { EventInput, EventLog, EventSink } from './event-log.ts';

/** A sink that can also hand an event over without recording it (EventLog); a test's sink without it drops those. */
export type PublishingSink = EventSink & Partial<Pick<EventLog, 'publish'>>;

export interface BudgetedEventsDeps {
  sink: PublishingSink;
  names: BudgetNames;
  /** Events recorded a minute, per bucket; 0 lifts the limit. Read for every event (a setting's change applies at once). */
  perMin: () => number;
  now: () => number;
  /** Called for each event counted instead of recorded (a stats counter). */
  counted?: () => void;
}

/** One budget: `record` is `emit` within it. */
export class BudgetedEvents {
  private readonly budget = new EventBudget();

  constructor(private readonly d: BudgetedEventsDeps) {}

  /** Record `e` within the budget of its bucket (a known node's when it names one), else publish and count it. */
  record<T extends EventType>(type: T, e: EventInput<T>): void {
    const node = e.node_id !== null && e.node_id !== undefined;
    const perMin = this.d.perMin();
    const decision = this.budget.take(node, perMin, this.d.now());
    if (decision === BUDGET.PASS) {
      this.d.sink.emit(type, e);
      return;
    }
    if (decision === BUDGET.RECOVERED) {
      this.summary(decision, node, perMin);
      this.d.sink.emit(type, e);
      return;
    }
    this.d.counted?.();
    this.d.sink.publish?.(type, e);
    if (decision !== BUDGET.DROP) this.summary(decision, node, perMin);
  }

  /** Events counted and not recorded since the bucket's last summary. */
  counted(node: boolean): number {
    return this.budget.counted(node);
  }

  private summary(decision: BudgetDecision, node: boolean, perMin: number): void {
    const n = this.budget.counted(node);
    if (decision !== BUDGET.TRIPPED) this.budget.resetCount(node);
    this.d.sink.emit('node.suppressed', suppressedEvent(this.d.names, decision, node, perMin, n));
  }
}
