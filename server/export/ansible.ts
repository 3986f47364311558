/**
 * Ansible inventory (YAML inventory plugin format: `all` with `hosts` and
 * `children`, docs.ansible.com "How to build your inventory"): one host per node
 * with `ansible_host` (the node's address) and `crashcart_*` variables, and a
 * group per tag (`tag_NAME`) and per policy (`policy_NAME`). Node text goes out
 * only as quoted YAML strings (yaml-text.ts). Pure.
 */
import type { ExportInput } from './export-input.ts';
import { exportName } from './export-input.ts';
import { yamlDocument, type YamlValue } from './yaml-text.ts';

/** An Ansible group name: letters, digits and `_` (Ansible warns on anything else and may drop the group). */
export function groupName(prefix: 'tag' | 'policy', name: string): string {
  return `${prefix}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The inventory as YAML. */
export function renderAnsible(input: ExportInput): string {
  const hosts: Record<string, YamlValue> = {};
  const groups = new Map<string, Record<string, YamlValue>>();
  const join = (g: string, host: string) => {
    if (!groups.has(g)) groups.set(g, {});
    groups.get(g)![host] = {};
  };
  for (const { node: n } of input.nodes) {
    // Two nodes may report one hostname: the second is named by its id so neither is lost.
    let name = exportName(n);
    if (name in hosts) name = `node-${n.id}`;
    hosts[name] = {
      ...(n.ip ? { ansible_host: n.ip } : {}),
      crashcart_id: n.id,
      crashcart_state: n.state,
      crashcart_hostname: n.hostname,
      crashcart_macs: n.macs,
      crashcart_serial: n.serial,
      crashcart_manufacturer: n.manufacturer,
      crashcart_product: n.product,
      crashcart_policy: n.policy,
      crashcart_tags: n.tags,
    };
    for (const t of n.tags) join(groupName('tag', t), name);
    if (n.policy) join(groupName('policy', n.policy), name);
  }
  const children: Record<string, YamlValue> = {};
  for (const [g, members] of [...groups].sort(([a], [b]) => a.localeCompare(b))) children[g] = { hosts: members };
  return yamlDocument({ all: { hosts, ...(groups.size ? { children } : {}) } });
}
