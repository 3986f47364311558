/**
 * The appliance the browser tests drive: the test kit's whole-process starter (`crashcart serve` on loopback
 * with the simulated rack, a fresh data dir, stopped by its pid), plus a JSON caller for the admin API. The
 * browser is the point here, so the process and its real sockets are too.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { spawnAppliance } from '../support/appliance.ts';
import { waitFor } from '../support/wait-for.ts';

/** A running appliance. */
export interface Appliance {
  adminUrl: string;
  loginUrl: string;
  nodeUrl: string;
  token: string;
  dataDir: string;
  /** JSON call to the admin API with the token. */
  api: <T>(method: string, p: string, body?: unknown) => Promise<T>;
  /** Resolves once at least `count` nodes have registered (not only been seen at DHCP): the simulated rack boots in the background. */
  nodesRegistered: (count: number) => Promise<void>;
  stop: () => Promise<void>;
  output: () => string;
}

/** Start an appliance; resolves when it printed its login link. */
export async function startAppliance(extra: string[] = ['--lab', 'sim:20']): Promise<Appliance> {
  // The simulated rack boots the working tree's microkernel, as `npm start` does (the kit's default is none).
  const mk = ['--microkernel', path.join(REPO_ROOT, 'build', 'out', 'microkernel')];
  const p = await spawnAppliance([...mk, '--log-level', 'warn', ...extra]);
  const token = await p.token();
  const api = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${p.adminUrl}${url}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const nodesRegistered = async (count: number): Promise<void> => {
    const registered = async () =>
      (await api<{ nodes: { registered_at: string | null }[] }>('GET', '/api/v1/nodes?limit=1000')).nodes.filter(
        (n) => n.registered_at !== null,
      ).length >= count;
    await waitFor(`${count} simulated machines registered`, 120_000, registered).catch((e: Error) => {
      throw new Error(`${e.message}\n${p.output()}`);
    });
  };
  const stop = async (): Promise<void> => {
    await p.stop();
    rmSync(p.dataDir, { recursive: true, force: true });
  };
  return {
    adminUrl: p.adminUrl,
    loginUrl: p.loginUrl,
    nodeUrl: p.nodeUrl,
    token,
    dataDir: p.dataDir,
    api,
    nodesRegistered,
    stop,
    output: p.output,
  };
}
