/**
 * The real `crashcart serve` binary as a child process (for SIGKILL tests and network namespaces):
 * started on a data dir, "up" when it printed its UI line, killed by its own PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../../../server/boot/microkernel-assets.ts';

/** A running appliance process. */
export interface ServeProc {
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** Last lines of stderr (for failure messages). */
  stderr(): string;
  /** Admin API call with the bearer token from the data dir. */
  admin(adminUrl: string, method: string, url: string, body?: unknown): Promise<{ status: number; body: any }>;
}

/**
 * Start `crashcart serve ARGS` (optionally inside a network namespace via `ip netns exec`) and wait for
 * its UI line; resolves null when it exited first (a port taken meanwhile: the caller retries).
 */
export async function startServe(args: string[], opts: { netns?: string; timeoutMs?: number } = {}): Promise<ServeProc | null> {
  const argv = [path.join(REPO_ROOT, 'bin', 'crashcart.mjs'), 'serve', ...args];
  const child = opts.netns
    ? spawn('ip', ['netns', 'exec', opts.netns, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const up = await new Promise<boolean>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Crashcart UI:')) resolve(true);
    });
    void exited.then(() => resolve(false));
    setTimeout(() => resolve(false), opts.timeoutMs ?? 45_000);
  });
  if (!up) {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    return null;
  }
  const dataDir = args[args.indexOf('--data-dir') + 1]!;
  const token = (await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
  return {
    child,
    exited,
    stderr: () => stderr,
    async admin(adminUrl, method, url, body) {
      const res = await fetch(adminUrl + url, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed as any };
    },
  };
}
