/**
 * What the agent trusts: the appliance it booted with, and nothing an answer says beyond that. Pure
 * helpers for the loop and the client (docs/agent.md "Trust"): a pushed `server_url` on another origin is
 * refused and reported, and a `Retry-After` cannot park the agent for longer than the back-off cap.
 */
import type { ConfigRefused } from '../../contract/protocol.ts';
import { DEFAULT_BACKOFF_CAP_MS } from './backoff.ts';

/**
 * Longest wait a `Retry-After` may impose: the back-off cap (5 minutes). A server that says "come back in a
 * day" (a MITM on the rack, or a bug) gets the agent back after this, as an appliance restart would.
 */
export const MAX_RETRY_AFTER_MS = DEFAULT_BACKOFF_CAP_MS;

/** Longest URL kept in a refusal report (the contract's limit for server_url). */
const MAX_URL_CHARS = 1024;

/** The origin (scheme, host, port; default ports dropped, host lower-cased) of an http(s) URL, or undefined. */
export function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Does a pushed `server_url` name the appliance the agent booted with? Same origin only: a path change on
 * the same host is the same appliance; another host, port or scheme is not (and neither is garbage).
 */
export function sameAppliance(booted: string, pushed: string): boolean {
  const a = originOf(booted);
  return a !== undefined && a === originOf(pushed);
}

/**
 * `Retry-After` (RFC 9110 10.2.3: delay-seconds, or an HTTP-date) as milliseconds from `nowMs`, capped at
 * `capMs`; undefined when absent, unreadable, or already past.
 */
export function retryAfterMs(value: string | undefined, nowMs: number, capMs = MAX_RETRY_AFTER_MS): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().slice(0, 64);
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (!Number.isFinite(at)) return undefined;
    ms = at - nowMs;
  }
  return ms > 0 ? Math.min(ms, capMs) : undefined;
}

/**
 * Counts refused pushed URLs and holds the report the next check-in carries: once per distinct URL, so an
 * appliance that keeps pushing the same foreign URL makes one event, not one per check-in. Keeps only the
 * last URL (a hostile server varying it cannot grow memory).
 */
export class ConfigRefusals {
  private n = 0;
  private last: string | undefined;
  private pending = false;

  /** Record a refusal; true when the URL differs from the last one reported (log it loudly). */
  refuse(url: string): boolean {
    this.n++;
    const u = url.slice(0, MAX_URL_CHARS);
    if (u === this.last) return false;
    this.last = u;
    this.pending = true;
    return true;
  }

  /** Refusals since start. */
  total(): number {
    return this.n;
  }

  /** What the next check-in reports, or undefined when there is nothing new. */
  report(): ConfigRefused | undefined {
    return this.pending && this.last !== undefined ? { server_url: this.last, count: this.n } : undefined;
  }

  /** The appliance answered the check-in that carried the report. */
  delivered(): void {
    this.pending = false;
  }
}
