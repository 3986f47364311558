/**
 * What iPXE does with the appliance's scripts, reduced to what the lab needs:
 * expand `${var}` settings, follow `chain` URLs, and tell apart the three
 * answers of `/boot` (microkernel, task, local disk). Pure.
 */
import { crashcartArgs } from '../../agent/locate.ts';

/** The settings iPXE would expand in a boot URL (PXE-NOTES: script variables). */
export interface IpxeVars {
  mac: string;
  uuid: string;
  serial: string;
  manufacturer: string;
  product: string;
  /** i386, x86_64, arm64 */
  buildarch: string;
  /** pcbios or efi */
  platform: string;
  asset?: string;
}

/** Expand `${name}` / `${name:fmt}`; values are URL-encoded (the simulator does what `:uristring` does). */
export function expandIpxe(text: string, v: IpxeVars): string {
  return text.replace(/\$\{([A-Za-z0-9_/.-]+)(?::([a-z]+))?\}/g, (_m, name: string, fmt: string | undefined) => {
    let val: string;
    if (/^net(\d+|X)\/mac$/.test(name)) val = v.mac;
    else if (
      name === 'uuid' ||
      name === 'serial' ||
      name === 'manufacturer' ||
      name === 'product' ||
      name === 'buildarch' ||
      name === 'platform' ||
      name === 'asset'
    )
      val = v[name] ?? '';
    else val = '';
    if (fmt === 'hexhyp') return val.replace(/:/g, '-');
    // MACs stay readable (aa:bb:...), everything else is encoded as :uristring would.
    return /^net(\d+|X)\/mac$/.test(name) ? val : encodeURIComponent(val);
  });
}

/** The first URL a `chain` command in the script would fetch. */
export function chainUrl(script: string): string | undefined {
  for (const line of script.split('\n')) {
    const m = /^\s*chain\b[^\n]*?\s(https?:\/\/\S+)/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/** What `/boot` told the machine to do. */
export type BootDecision =
  | { kind: 'microkernel'; url?: string; nodeId?: number; token: string; microkernel?: string }
  | { kind: 'task'; stageUrl: string }
  | { kind: 'local' }
  | { kind: 'chain'; url: string }
  | { kind: 'unknown'; reason: string };

/** Classify a boot script by the markers the appliance puts in it. */
export function classifyBootScript(script: string): BootDecision {
  if (!script.startsWith('#!ipxe')) return { kind: 'unknown', reason: 'not an iPXE script (no #!ipxe line)' };
  const argsLine = script.split('\n').find((l) => l.includes('crashcart.token='));
  if (argsLine) {
    const a = crashcartArgs(argsLine);
    if (a.token) return { kind: 'microkernel', url: a.url, nodeId: a.nodeId, token: a.token, microkernel: a.microkernel };
  }
  const stage = /^#\s*crashcart:\s*stage_url=(\S+)/m.exec(script);
  if (stage) return { kind: 'task', stageUrl: stage[1]! };
  if (/^\s*(sanboot\b|exit\b)/m.test(script) || /\|\|\s*exit\s*$/m.test(script)) return { kind: 'local' };
  const c = chainUrl(script);
  if (c) return { kind: 'chain', url: c };
  return { kind: 'unknown', reason: 'no kernel arguments, stage URL, local-boot or chain command in the script' };
}

/** Point an appliance URL at the lab's base URL (the script may name the NIC address, the lab talks loopback). */
export function rebase(url: string, baseUrl: string): string {
  try {
    const u = new URL(url);
    const b = new URL(baseUrl);
    u.protocol = b.protocol;
    u.host = b.host;
    return u.toString();
  } catch {
    return url;
  }
}
