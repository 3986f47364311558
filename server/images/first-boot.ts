/**
 * What first-boot configuration an image understands, decided from files read out of its root
 * filesystem (pure: contents in, verdict out). cloud-init reads /etc/cloud/cloud.cfg, then
 * /etc/cloud/cloud.cfg.d/*.cfg in lexical order, later keys replacing earlier ones; its default
 * datasource_list includes NoCloud, and /etc/cloud/cloud-init.disabled turns it off (cloud-init's
 * documentation: "Boot stages" and "Datasources").
 */

import type { FirstBoot } from '../../contract/disk-image.ts';

/** Files that decide it (null = absent). */
export interface CloudInitFiles {
  /** /usr/bin/cloud-init exists. */
  binary: boolean;
  /** /etc/cloud/cloud-init.disabled exists. */
  disabled: boolean;
  /** /etc/cloud/cloud.cfg contents. */
  cloudCfg: string | null;
  /** /etc/cloud/cloud.cfg.d/*.cfg by file name. */
  dropIns: Record<string, string>;
}

/** The datasource_list a YAML text sets, in flow (`[a, b]`) or block (`- a`) style; undefined when absent. */
export function datasourceList(yaml: string): string[] | undefined {
  const lines = yaml.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = /^datasource_list\s*:\s*(.*?)\s*(#.*)?$/.exec(lines[i]!);
    if (!m) continue;
    const rest = m[1]!;
    if (rest.startsWith('[')) {
      return rest
        .replace(/^\[|\].*$/g, '')
        .split(',')
        .map((s) => s.trim().replace(/^['"]|['"]$/g, ''))
        .filter(Boolean);
    }
    const items: string[] = [];
    for (let k = i + 1; k < lines.length; k++) {
      const item = /^\s*-\s*['"]?([A-Za-z0-9_]+)['"]?\s*(#.*)?$/.exec(lines[k]!);
      if (item) items.push(item[1]!);
      else if (/^\s*(#.*)?$/.test(lines[k]!)) continue;
      else break;
    }
    return items;
  }
  return undefined;
}

/** NoCloud when cloud-init is installed, enabled, and its effective datasource_list allows NoCloud. */
export function firstBootFrom(f: CloudInitFiles): { firstBoot: FirstBoot; reason: string } {
  if (!f.binary || f.cloudCfg === null) return { firstBoot: 'none', reason: 'cloud-init is not installed' };
  if (f.disabled) return { firstBoot: 'none', reason: 'cloud-init is disabled (/etc/cloud/cloud-init.disabled)' };
  let list: string[] | undefined = datasourceList(f.cloudCfg);
  for (const name of Object.keys(f.dropIns).sort()) list = datasourceList(f.dropIns[name]!) ?? list;
  if (list === undefined) return { firstBoot: 'nocloud', reason: 'cloud-init with its default datasource list (includes NoCloud)' };
  return list.some((d) => d.toLowerCase() === 'nocloud')
    ? { firstBoot: 'nocloud', reason: `cloud-init, datasource_list [${list.join(', ')}]` }
    : { firstBoot: 'none', reason: `cloud-init, but datasource_list [${list.join(', ')}] leaves NoCloud out` };
}
