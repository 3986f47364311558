/**
 * Hooks: the operator's list (webhook URLs and secrets sealed with the data
 * dir's key, never answered: a URL only in its display form, hook-url.ts), and
 * the runner. The runner listens to the event log; a matching
 * event becomes a delivery in the store and is attempted off the request path
 * (the emitter returns at once), retried with doubling back-off up to
 * `maxAttempts`, and logged (the log keeps the newest `keepDeliveries`).
 * A failing or hanging hook therefore never delays registration or an install.
 *
 * Hook definitions are written durably (fsync'ed before the API answers), as
 * every catalog write is. Deliveries survive a crash: the record holds the
 * payload and the time of the next attempt. It is fsync'ed before the first
 * attempt, so once recorded not even a power cut loses a delivery;
 * the state after each attempt is written before the next one is scheduled but
 * not fsync'ed (an fdatasync per attempt buys nothing a receiver needs: the
 * delivery id lets it drop a repeat). So after SIGKILL `start` picks up every
 * `pending` or `retrying` delivery and attempts it at its `next_attempt_at` (at
 * once when that has passed), keeping its attempt count; after a power cut it
 * may resume from an earlier state and send once more (docs/hooks.md). A
 * delivery that fails for good is recorded as a `hook.failed` event.
 */
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { CcEvent } from '../../contract/events.ts';
import type { Node } from '../../contract/node.ts';
import type { Hook, HookDelivery, HookInput, HookUpdate } from '../../contract/hooks.ts';
import type { Store } from '../store/store.ts';
import type { HookDeliveryDoc, HookDoc } from '../store/docs.ts';
import type { EventLog } from '../events/event-log.ts';
import type { Logger } from '../core/plugin.ts';
import { SecretBox, secretRecord } from '../secrets/secret-box.ts';
import { ccError } from '../errors/cc-error.ts';
import { ERRORS } from '../errors/catalog.ts';
import { hookEventOf } from './hook-trigger.ts';
import { HOOK_TIMEOUT_MS, postWebhook, runScript } from './hook-deliver.ts';
import { isWebhookUrl, URL_MASK } from './hook-url.ts';
import { failureText, hookFailedEvent, openHook, sealUrl } from './hook-sealed.ts';

/** Runner limits (tests shorten the delays). */
export interface HookLimits {
  /** First retry after this; each next one doubles. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Attempts in all, first included (bounded: a dead receiver is not retried for ever). */
  maxAttempts: number;
  timeoutMs: number;
  /** Deliveries kept in the log. */
  keepDeliveries: number;
}

/** Defaults: 1 s, 2 s, 4 s, 8 s between five attempts; 10 s per attempt; the last 1000 deliveries. */
export const DEFAULT_HOOK_LIMITS: HookLimits = {
  retryBaseMs: 1000,
  retryMaxMs: 60_000,
  maxAttempts: 5,
  timeoutMs: HOOK_TIMEOUT_MS,
  keepDeliveries: 1000,
};

/** What the service needs. */
export interface HookDeps {
  store: Store;
  events: EventLog;
  dataDir: string;
  log: Logger;
  now(): Date;
  /** The node as the admin API shows it (the payload), or null once forgotten. */
  nodeView(id: number): Node | null;
  limits?: Partial<HookLimits>;
}

/** The webhook URL's display form only (a record of an older version is sealed in `start` before any view). */
const view = (d: HookDoc): Hook => ({
  id: d._id,
  name: d.name,
  events: d.events,
  kind: d.kind,
  script: d.script,
  url: d.url,
  has_secret: d.secret !== null,
  created_at: d.created_at,
});

/** The log's view: the payload stays inside (it is the node as the API shows it, but the log lists, it does not replay). */
const deliveryView = ({ _id, payload: _payload, ...d }: HookDeliveryDoc): HookDelivery => ({
  id: _id,
  ...d,
  next_attempt_at: d.next_attempt_at ?? null,
});

/** The hooks of one appliance. */
export class HookService {
  private hooks: HookDoc[] = [];
  private unsubscribe: (() => void) | null = null;
  private timers = new Set<NodeJS.Timeout>();
  private readonly limits: HookLimits;
  /** Deliveries in flight, so stop() can wait for them. */
  private running = new Set<Promise<void>>();

  private constructor(
    private readonly d: HookDeps,
    private readonly box: SecretBox,
  ) {
    this.limits = { ...DEFAULT_HOOK_LIMITS, ...d.limits };
  }

  /** Load the hooks and start listening. */
  static async start(d: HookDeps): Promise<HookService> {
    const s = new HookService(d, await SecretBox.open(d.dataDir));
    s.hooks = await d.store.hooks.find({}, { created_at: 1 });
    await s.sealPlainUrls();
    s.unsubscribe = d.events.subscribe((e) => s.onEvent(e));
    await s.resume();
    return s;
  }

  /** The folder scripts are run from. */
  get hooksDir(): string {
    return path.join(this.d.dataDir, 'hooks');
  }

  /** Every hook. */
  list(): Hook[] {
    return this.hooks.map(view);
  }

  /** Add a hook; the URL and the secret are sealed for this hook's record. */
  async create(input: HookInput): Promise<Hook> {
    this.check(input, null);
    if (this.hooks.some((h) => h.name === input.name)) throw ccError('CC_ERR_CONFLICT', `hook "${input.name}" exists`);
    const id = randomBytes(8).toString('hex');
    const doc: HookDoc = {
      _id: id,
      name: input.name,
      events: [...input.events],
      kind: input.kind,
      script: input.script ?? null,
      ...this.urlFields(id, input, null),
      secret: input.secret ? this.box.seal(input.secret, secretRecord('hook', id, 'secret')) : null,
      created_at: this.d.now().toISOString(),
    };
    await this.d.store.hooks.insert(doc, { durable: true });
    this.hooks.push(doc);
    return view(doc);
  }

  /**
   * Replace a hook's fields; an absent `url` (or the display form answered) keeps the sealed URL, an absent `secret`
   * keeps the sealed one, `null` removes it.
   */
  async update(id: string, input: HookUpdate): Promise<Hook> {
    const h = this.hooks.find((x) => x._id === id);
    if (!h) throw ccError('CC_ERR_NOT_FOUND', `hook ${id}`);
    this.check(input, h);
    if (this.hooks.some((x) => x.name === input.name && x !== h)) throw ccError('CC_ERR_CONFLICT', `hook "${input.name}" exists`);
    const secret =
      input.kind === 'script' || input.secret === null
        ? null
        : input.secret !== undefined
          ? this.box.seal(input.secret, secretRecord('hook', id, 'secret'))
          : h.secret;
    const next: HookDoc = {
      ...h,
      name: input.name,
      events: [...input.events],
      kind: input.kind,
      script: input.script ?? null,
      ...this.urlFields(id, input, h),
      secret,
    };
    await this.d.store.hooks.put(next, { durable: true });
    // Swap the object in place of the old one: queued retries of the old object stop (attempt() checks membership).
    this.hooks = this.hooks.map((x) => (x === h ? next : x));
    return view(next);
  }

  /** Fire a `test` delivery now (no node); resolves once its first attempt is logged. */
  async testFire(id: string): Promise<HookDelivery> {
    const h = this.hooks.find((x) => x._id === id);
    if (!h) throw ccError('CC_ERR_NOT_FOUND', `hook ${id}`);
    const now = this.d.now().toISOString();
    const payload = JSON.stringify({ event: 'test', event_type: 'hook.test', event_seq: 0, ts: now, node: null });
    const doc = await this.record(h, 'test', 0, null, payload);
    const p = this.attempt(h, doc);
    this.track(p);
    await p;
    return deliveryView(doc);
  }

  /** Remove a hook and its deliveries. */
  async remove(id: string): Promise<void> {
    if (!this.hooks.some((h) => h._id === id)) throw ccError('CC_ERR_NOT_FOUND', `hook ${id}`);
    await this.d.store.hooks.remove({ _id: id }, { durable: true });
    // Durable too: a power cut must not bring back deliveries of a hook the answer said was gone.
    await this.d.store.hookDeliveries.remove({ hook_id: id }, { multi: true, durable: true });
    this.hooks = this.hooks.filter((h) => h._id !== id);
  }

  /** A hook's deliveries, newest first. */
  async deliveries(id: string): Promise<HookDelivery[]> {
    if (!this.hooks.some((h) => h._id === id)) throw ccError('CC_ERR_NOT_FOUND', `hook ${id}`);
    return (await this.d.store.hookDeliveries.find({ hook_id: id }, { created_at: -1 }, 200)).map(deliveryView);
  }

  /**
   * A script hook names a script and no url or secret; a webhook names a url (an edit of a webhook may leave it
   * out, or send back the display form, to keep the stored one) and no script.
   */
  private check(input: HookUpdate, current: HookDoc | null): void {
    const keeps = this.keepsUrl(input, current);
    const url = input.kind === 'webhook' && !keeps ? input.url : undefined;
    if (input.kind === 'script' ? !input.script || input.url : (!url && !keeps) || input.script)
      throw ccError(
        'CC_ERR_HOOK_INVALID',
        input.kind === 'script' ? 'a script hook names `script` (and no url)' : 'a webhook names `url` (and no script)',
      );
    if (url?.includes(URL_MASK))
      throw ccError(
        'CC_ERR_HOOK_INVALID',
        `\`url\` is a display form (${URL_MASK} hides a part): send the full URL, or leave \`url\` out to keep it`,
      );
    if (url !== undefined && !isWebhookUrl(url)) throw ccError('CC_ERR_HOOK_INVALID', '`url` is not an absolute http or https URL');
    if (input.kind === 'script' && input.secret) throw ccError('CC_ERR_HOOK_INVALID', 'a script hook takes no secret');
  }

  /**
   * Does this edit keep the webhook's sealed URL: `url` absent, or the display form the API answered with a part
   * masked? A display form with nothing masked is the URL itself and is sealed again (entering a URL that no longer
   * opens again is its fix).
   */
  private keepsUrl(input: HookUpdate, current: HookDoc | null): boolean {
    return (
      input.kind === 'webhook' &&
      current?.kind === 'webhook' &&
      typeof current.url_enc === 'string' &&
      (input.url === undefined || (input.url === current.url && input.url.includes(URL_MASK)))
    );
  }

  /** The URL fields of hook `id`'s record: the stored ones when the edit keeps them, else sealed from the input. */
  private urlFields(id: string, input: HookUpdate, current: HookDoc | null): Pick<HookDoc, 'url' | 'url_enc'> {
    if (input.kind !== 'webhook') return { url: null, url_enc: null };
    if (current && this.keepsUrl(input, current)) return { url: current.url, url_enc: current.url_enc ?? null };
    return sealUrl(this.box, id, input.url!); // check() made sure there is one
  }

  /**
   * A record written before webhook URLs were sealed holds the full URL in `url`: seal it, keep the display form,
   * then compact the file so that the plain URL does not stay behind in a superseded line.
   */
  private async sealPlainUrls(): Promise<void> {
    const plain = this.hooks.filter((h) => h.kind === 'webhook' && typeof h.url === 'string' && typeof h.url_enc !== 'string');
    if (plain.length === 0) return;
    for (const h of plain) {
      Object.assign(h, sealUrl(this.box, h._id, h.url!));
      await this.d.store.hooks.put(h, { durable: true });
    }
    await this.d.store.hooks.compact();
    this.d.log.info({ hooks: plain.length }, 'webhook URLs of an older version sealed');
  }

  /** Stop listening and retrying; waits for attempts in flight. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  /** Called by the event log for every event: only queues, never waits. */
  private onEvent(e: CcEvent): void {
    const which = hookEventOf(e);
    if (!which) return;
    for (const h of this.hooks) if (h.events.includes(which)) this.track(this.queue(h, e, which));
  }

  private track(p: Promise<void>): void {
    const q = p.catch((err: unknown) => this.d.log.warn({ err }, 'hook delivery failed to run'));
    this.running.add(q);
    void q.finally(() => this.running.delete(q));
  }

  private async queue(h: HookDoc, e: CcEvent, which: string): Promise<void> {
    const node = e.node_id !== null ? this.d.nodeView(e.node_id) : null;
    const payload = JSON.stringify({ event: which, event_type: e.type, event_seq: e.seq, ts: e.ts, node });
    await this.attempt(h, await this.record(h, which, e.seq, e.node_id, payload));
  }

  /**
   * Write a delivery, due now, before its first attempt, fsync'ed (so a crash or a power cut before the attempt
   * still leaves it to resume). Concurrent deliveries share the fsync (group commit), off the request path.
   */
  private async record(h: HookDoc, which: string, seq: number, nodeId: number | null, payload: string): Promise<HookDeliveryDoc> {
    const now = this.d.now().toISOString();
    const doc: HookDeliveryDoc = {
      _id: randomBytes(8).toString('hex'),
      hook_id: h._id,
      event: which,
      event_seq: seq,
      node_id: nodeId,
      status: 'pending',
      attempts: 0,
      last_error: null,
      next_attempt_at: now,
      payload,
      created_at: now,
      updated_at: now,
    };
    await this.d.store.hookDeliveries.insert(doc, { durable: true });
    await this.trim();
    return doc;
  }

  /** After a restart: every delivery not finished is attempted at its time (at once when that has passed). */
  private async resume(): Promise<void> {
    const open = await this.d.store.hookDeliveries.find({ status: { $in: ['pending', 'retrying'] } }, { created_at: 1 });
    for (const doc of open) {
      const h = this.hooks.find((x) => x._id === doc.hook_id);
      if (!h || typeof doc.payload !== 'string') continue; // the hook's removal removes its deliveries; older records had no payload
      const due = Date.parse(doc.next_attempt_at ?? doc.updated_at) - this.d.now().getTime();
      this.schedule(h, doc, Math.max(0, due));
    }
    if (open.length) this.d.log.info({ deliveries: open.length }, 'hook deliveries resumed after a restart');
  }

  private schedule(h: HookDoc, doc: HookDeliveryDoc, delayMs: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.track(this.attempt(h, doc));
    }, delayMs);
    t.unref();
    this.timers.add(t);
  }

  private async attempt(h: HookDoc, doc: HookDeliveryDoc): Promise<void> {
    if (!this.hooks.includes(h) || !this.unsubscribe) return; // removed, edited or stopped meanwhile
    const payload = String(doc.payload);
    // A URL or secret that does not open (the key file was replaced, the record altered) fails the delivery at once:
    // it is never sent unsigned.
    const { url, secret, unreadable } = openHook(this.box, h);
    const error = unreadable
      ? failureText(unreadable)
      : h.kind === 'script'
        ? await runScript(this.hooksDir, h.script!, doc.event, payload, this.limits.timeoutMs)
        : await postWebhook(url!, secret, payload, Math.floor(this.d.now().getTime() / 1000), doc._id, this.limits.timeoutMs);
    doc.attempts += 1;
    doc.last_error = error;
    const now = this.d.now();
    doc.updated_at = now.toISOString();
    // A URL or secret that does not open will not open on a retry either (the key ring changes only with a restart).
    const retry = error !== null && unreadable === null && doc.attempts < this.limits.maxAttempts;
    doc.status = error === null ? 'ok' : retry ? 'retrying' : 'failed';
    const delay = Math.min(this.limits.retryBaseMs * 2 ** (doc.attempts - 1), this.limits.retryMaxMs);
    doc.next_attempt_at = retry ? new Date(now.getTime() + delay).toISOString() : null;
    // Written before the retry is scheduled: a "retrying" on file is what a restart resumes from. Not fsync'ed: a
    // power cut rolls it back to an earlier state at worst, and the delivery is sent once more (same delivery id).
    await this.d.store.hookDeliveries.put(doc);
    if (error) this.d.log.warn({ hook: h.name, attempt: doc.attempts, error }, 'hook delivery failed');
    if (retry) this.schedule(h, doc, delay);
    // Failed for good: one event a delivery, and deliveries are one a hook per history event it chose, so these stay
    // within what the log records already; event-clamp.ts bounds the line (a script's stderr is cut to 512 bytes first).
    else if (error !== null)
      this.d.events.emit(
        'hook.failed',
        hookFailedEvent(
          h,
          doc,
          unreadable ?? { code: 'CC_ERR_HOOK_DELIVERY_FAILED', reason: error, fix: ERRORS.CC_ERR_HOOK_DELIVERY_FAILED.fix },
        ),
      );
  }

  /** Keep the newest `keepDeliveries`. */
  private async trim(): Promise<void> {
    const n = await this.d.store.hookDeliveries.count();
    if (n <= this.limits.keepDeliveries) return;
    const old = await this.d.store.hookDeliveries.find({}, { created_at: 1 }, n - this.limits.keepDeliveries);
    await this.d.store.hookDeliveries.remove({ _id: { $in: old.map((o) => o._id) } }, { multi: true });
  }
}
