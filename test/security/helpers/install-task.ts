/**
 * An install the way a node's installer sees it: a task whose boot script carries the stage URL and an answer file, a
 * disabled policy to bind by hand, and the URLs the bound node's next boot script gives (their install token in them).
 */
import { expect } from 'vitest';
import type { TestAppliance } from '../../support/route-appliance.ts';
import type { ProtocolNode } from '../../support/protocol-node.ts';

const TASK = {
  name: 'sec-task',
  ipxe: '#!ipxe\n# crashcart: stage_url={{stage_url}}\nkernel {{server_url}}/images/x/vmlinuz url={{files_base}}/answer.cfg\nboot\n',
  templates: { 'answer.cfg': 'host {{hostname}}\n' },
};

/** Bind a registered node by hand and let it fetch its task: returns the script's stage and answer-file URLs. */
export async function install(t: TestAppliance, n: ProtocolNode): Promise<{ stage: string; answer: string; token: string }> {
  expect((await t.admin('POST', '/api/v1/nodes/bind', { node_ids: [n.nodeId], policy: 'sec-policy' })).body.results[0].ok).toBe(true);
  const script = await n.boot();
  const stage = /stage_url=(\S+)/.exec(script)![1]!;
  const answer = /url=(\S+answer\.cfg)/.exec(script)![1]!;
  return { stage, answer, token: /token=([^&\s]+)/.exec(stage)![1]! };
}

/** The task and policy `install` binds to (call once per appliance). */
export async function setupInstallTask(t: TestAppliance): Promise<void> {
  expect((await t.admin('POST', '/api/v1/tasks', TASK)).status).toBe(201);
  expect((await t.admin('POST', '/api/v1/policies', { name: 'sec-policy', task: 'sec-task', enabled: false })).status).toBe(201);
}
