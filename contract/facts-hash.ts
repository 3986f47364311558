/**
 * The facts hash both sides compute the same way: sha256 over canonical JSON
 * (keys sorted) of the flat facts the agent sends. Node-only (node:crypto).
 */
import { createHash } from 'node:crypto';
import type { Facts } from './node.ts';

/** Canonical JSON: object keys sorted, recursively. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

/** sha256 hex of the canonical facts. */
export function factsHash(facts: Facts): string {
  return createHash('sha256').update(canonicalJson(facts)).digest('hex');
}
