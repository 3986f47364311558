/**
 * The bytes of request bodies the node plane receives at once, in all. Every body route there (register, check-in,
 * task reports, BMC enrolment) takes up to MAX_REGISTER_BYTES, buffered whole before it is parsed, and a route that
 * needs a token reads it only after the body is in. The per-source facts budget and the connection caps
 * (connection-caps.ts) bound one source; many sources each sending 2 MiB slowly could still hold the connection cap's
 * worth of bodies, gigabytes, in the appliance's memory. Past this budget, or past its source's share of it, a request
 * is answered 503 with Retry-After before its body is read; the agent waits and sends it again (agent/loop/client.ts).
 * A flood from many addresses can keep the budget full, and machines' registrations wait while it lasts; it cannot
 * make the appliance run out of memory.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ccError } from '../errors/cc-error.ts';
import { rateKey } from './rate-key.ts';

/**
 * Body bytes in flight in all: 128 machines' largest registers at once. A storm's registers are far smaller (the
 * first carries the `/sys` facts, a few KB; the complete facts with lshw are tens to hundreds of KB), so 500
 * machines registering together fit; a body whose length is not declared (chunked) counts as the largest.
 */
export const DEFAULT_BODY_BYTES_IN_FLIGHT = 256 * 1024 * 1024;
/** How long a refused client waits before it sends again (RFC 9110 10.2.3). */
export const BODY_BUSY_RETRY_S = 2;
/** One source (the rate limiter's key) may hold at most this share of the budget, so one host cannot fill it. */
export const BODY_SOURCE_SHARE = 1 / 8;

/**
 * A body declared at most this long is not charged: check-ins, task reports and BMC reports are a few KB, and the
 * connection caps bound what such bodies can hold in all (4,096 connections x 64 KiB = 256 MiB, the budget's size
 * again). The budget's bookkeeping then runs only for large or undeclared bodies, not on every check-in.
 */
export const UNCHARGED_BODY_BYTES = 64 * 1024;

/** A counter of bytes taken and given back. */
export class ByteBudget {
  private used = 0;
  constructor(readonly max: number) {}

  /** Take `n` bytes; false (nothing taken) when they would go over `max`. */
  take(n: number): boolean {
    if (this.used + n > this.max) return false;
    this.used += n;
    return true;
  }

  /** Give back `n` bytes taken before. */
  release(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  /** Bytes taken now. */
  inUse(): number {
    return this.used;
  }
}

/** What a request with a body is charged: its declared length, at most `largest`; the largest when undeclared. */
export function bodyCharge(contentLength: string | undefined, largest: number): number {
  if (contentLength === undefined || !/^\d+$/.test(contentLength)) return largest;
  return Math.min(Number(contentLength), largest);
}

/** A budget in all and a share of it per source. */
export class BodyBudget {
  readonly all: ByteBudget;
  private readonly bySource = new Map<string, ByteBudget>();
  private readonly perSource: number;
  constructor(max: number, sourceShare = BODY_SOURCE_SHARE) {
    this.all = new ByteBudget(max);
    this.perSource = Math.floor(max * sourceShare);
  }

  /** Take `n` bytes for `source`; false (nothing taken) when its share or the budget in all would be over. */
  take(source: string, n: number): boolean {
    let mine = this.bySource.get(source);
    if (!mine) this.bySource.set(source, (mine = new ByteBudget(this.perSource)));
    if (!mine.take(n)) return false;
    if (this.all.take(n)) return true;
    mine.release(n);
    return false;
  }

  /** Give back `n` bytes `source` took. */
  release(source: string, n: number): void {
    this.all.release(n);
    const mine = this.bySource.get(source);
    if (!mine) return;
    mine.release(n);
    if (mine.inUse() === 0) this.bySource.delete(source);
  }

  /** Sources holding bytes now (a map entry each; none once every request is done). */
  sources(): number {
    return this.bySource.size;
  }
}

/** Charge every request of `app` that may carry a body to `budget`, until the request is done with. */
export function budgetBodies(app: FastifyInstance, budget: BodyBudget, largest: number): void {
  // Callback hooks, not async ones: these run on every check-in, and an async hook costs a promise per request.
  app.addHook('onRequest', (req, reply, done) => {
    if (req.method === 'GET' || req.method === 'HEAD') return done();
    const n = bodyCharge(req.headers['content-length'], largest);
    if (n <= UNCHARGED_BODY_BYTES) return done();
    const source = rateKey(req.ip);
    if (!budget.take(source, n)) {
      void reply.header('retry-after', String(BODY_BUSY_RETRY_S));
      return done(ccError('CC_ERR_BUSY', `request bodies being received: ${Math.round(budget.all.inUse() / 1024 / 1024)} MiB in all`));
    }
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      budget.release(source, n);
    };
    releases.set(req, release);
    // Whichever comes first: the answer (its body was read or refused by then), or the request's end, which is also
    // where a client that went away mid-body ends (no answer then). inject() requests end with the answer only.
    req.raw.once('close', release);
    done();
  });
  app.addHook('onResponse', (req, _reply, done) => {
    releases.get(req)?.();
    done();
  });
}

/** Each charged request's release, once. */
const releases = new WeakMap<FastifyRequest, () => void>();
