/**
 * One delivery attempt: run the script (no shell, fixed argv, minimal
 * environment, the payload on stdin, killed at the timeout) or POST the signed
 * webhook (timeout, no redirects followed). Resolves with null on success or
 * the reason it failed; never throws.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { signature } from './hook-sign.ts';
import { requestOf, urlSecrets } from './hook-url.ts';
import { redactText } from '../secrets/redact.ts';

/** What a script or webhook may take before it counts as failed. */
export const HOOK_TIMEOUT_MS = 10_000;
/** Bytes of a script's stderr kept for the delivery log. */
const STDERR_KEEP = 512;

/** Run `<hooksDir>/<script> EVENT` with `payload` on stdin. */
export function runScript(
  hooksDir: string,
  script: string,
  event: string,
  payload: string,
  timeoutMs = HOOK_TIMEOUT_MS,
): Promise<string | null> {
  return new Promise((resolve) => {
    // The name was checked against [A-Za-z0-9_.-] (no `/`), so the file is inside hooksDir.
    const file = path.join(hooksDir, script);
    const child = spawn(file, [event], {
      cwd: hooksDir,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', CRASHCART_EVENT: event, LANG: 'C.UTF-8' },
      stdio: ['pipe', 'ignore', 'pipe'],
      detached: true, // its own process group, so the timeout kills what it started too
    });
    let err = '';
    let done = false;
    const finish = (r: string | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      finish(`timed out after ${timeoutMs} ms`);
    }, timeoutMs);
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-STDERR_KEEP)));
    child.once('error', (e) => finish(`cannot run ${script}: ${e.message}`));
    child.once('exit', (code, sig) => finish(code === 0 ? null : `exit ${code ?? sig}${err ? `: ${err.trim()}` : ''}`));
    child.stdin.on('error', () => undefined); // a script that does not read stdin
    child.stdin.end(payload);
  });
}

/**
 * POST `payload` to `url` (the full URL, opened from its seal), signed when there is a secret. Userinfo goes as
 * `Authorization: Basic`; the reason it failed never quotes the URL's secret parts (hook-url.ts `urlSecrets`).
 */
export async function postWebhook(
  url: string,
  secret: string | null,
  payload: string,
  nowS: number,
  deliveryId: string,
  timeoutMs = HOOK_TIMEOUT_MS,
): Promise<string | null> {
  // The delivery id is the same on every retry (and after a restart), so a receiver can drop a duplicate.
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'crashcart-hooks',
    'x-crashcart-delivery': deliveryId,
  };
  const target = requestOf(url);
  if (target.authorization) headers['authorization'] = target.authorization;
  if (secret) {
    headers['x-crashcart-timestamp'] = String(nowS);
    headers['x-crashcart-signature'] = signature(secret, nowS, payload);
  }
  try {
    const r = await fetch(target.url, {
      method: 'POST',
      headers,
      body: payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await r.arrayBuffer().catch(() => undefined);
    return r.status >= 200 && r.status < 300 ? null : `HTTP ${r.status}`;
  } catch (e) {
    return (e as Error).name === 'TimeoutError'
      ? `timed out after ${timeoutMs} ms`
      : `cannot reach ${URL.canParse(target.url) ? new URL(target.url).host : 'the hook URL'}: ${redactText((e as Error).message, urlSecrets(url))}`;
  }
}
