/**
 * What the CLI tests share: run the real `bin/crashcart.mjs`, and put a node
 * on a running appliance the way a machine does (GET /boot as iPXE, then
 * POST /api/v1/register with the enrolment token the script carries), so
 * node text (manufacturer, serial) really comes from "the rack".
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { killAfter } from '../support/kill-timer.ts';
import { inventory } from '../support/protocol-node.ts';

/** The real binary. */
export const BIN = path.join(REPO_ROOT, 'bin', 'crashcart.mjs');

/** One CLI run's outcome. */
export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run `crashcart ARGS` to completion with `env` added to this process's environment (minus any CRASHCART_*).
 * Asynchronous on purpose: a spawnSync would block this process's event loop for the whole run, so a
 * keep-alive socket the appliance closed meanwhile (72 s idle) would look open to the next fetch, which
 * then fails with "other side closed" (it did, once, in CI).
 */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CRASHCART_')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    killAfter(child, 60_000);
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Parse a `--json` answer, failing with what the CLI printed when it is not JSON. */
export function json<T>(r: CliRun): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
}

/** Boot and register one machine on the node plane; resolves with its node id. */
export async function registerMachine(
  nodeUrl: string,
  mac: string,
  o: { manufacturer?: string; serial?: string; product?: string } = {},
): Promise<number> {
  const serial = o.serial ?? `SN-${mac}`;
  // A fresh connection per call, as a booting machine has: callers run minutes of other work between
  // registrations, and a pooled socket the appliance closed as idle must never carry the next one.
  const boot = await fetch(`${nodeUrl}/boot?${new URLSearchParams({ mac, serial, arch: 'x86_64', platform: 'efi' })}`, {
    headers: { connection: 'close' },
  });
  const script = await boot.text();
  if (boot.status !== 200) throw new Error(`boot ${boot.status}: ${script}`);
  const token = /crashcart\.token=(\S+)/.exec(script)?.[1];
  const nodeId = Number(/crashcart\.node=(\d+)/.exec(script)?.[1]);
  if (!token) throw new Error(`no enrolment token in:\n${script}`);
  const inv = inventory({
    system: { manufacturer: o.manufacturer ?? 'Dell Inc.', product: o.product ?? 'PowerEdge R640', serial },
    nics: [{ name: 'eno1', mac, speed_mbps: 1000 }],
  });
  const r = await fetch(`${nodeUrl}/api/v1/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify({
      hw_id: mac,
      node_id: nodeId,
      macs: [mac],
      serial,
      token,
      facts: { manufacturer: inv.system.manufacturer ?? null },
      inventory: inv,
    }),
  });
  const body = (await r.json()) as { node_id?: number };
  if (r.status !== 200 || !body.node_id) throw new Error(`register ${r.status}: ${JSON.stringify(body)}`);
  return body.node_id;
}
