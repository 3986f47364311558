/**
 * node:https and node:tls, loaded on the first https URL only. The node plane is plain HTTP in the field, and
 * loading TLS with every agent start cost about a tenth of the start on an emulated CPU (docs/performance.md).
 */
import type https from 'node:https';

let loading: Promise<typeof https> | undefined;

/** The https module, loaded once. */
export function loadHttps(): Promise<typeof https> {
  loading ??= import('node:https').then((m) => m.default);
  return loading;
}
