/** `lldpctl -f json` (or `-f keyvalue`) -> neighbour per local interface. Pure. */
import { arr, lines, looksJson, rec, str, tryJson } from './kv-text.ts';

/** The switch and port one local NIC is cabled to. */
export interface LldpNeighbour {
  switch_name?: string;
  switch_id?: string;
  port_id?: string;
  port_descr?: string;
  vlan?: number;
  mgmt_ip?: string;
}

const MAX_IFACES = 256;

/** lldpd prints a single interface as an object and several as a list of one-key objects. */
function ifaceEntries(v: unknown): [string, Record<string, unknown>][] {
  const out: [string, Record<string, unknown>][] = [];
  const items = Array.isArray(v) ? v : [v];
  for (const it of items.slice(0, MAX_IFACES)) {
    for (const [k, val] of Object.entries(rec(it))) out.push([k, rec(val)]);
  }
  return out;
}

/** First element when lldpd printed a list, else the value itself. */
function one(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

/** A string that may be wrapped as {value: "..."} (lldpd JSON). */
function val(v: unknown): string | undefined {
  const x = one(v);
  return str(x) ?? str(rec(x)['value']);
}

function fromJson(text: string): Record<string, LldpNeighbour> {
  const out: Record<string, LldpNeighbour> = {};
  for (const [nic, body] of ifaceEntries(rec(rec(tryJson(text))['lldp'])['interface'])) {
    const chassisRaw = rec(one(body['chassis']));
    // Older lldpd keys the chassis by its name: {"chassis": {"sw1": {...}}}.
    const named = Object.keys(chassisRaw).length === 1 && !('id' in chassisRaw) && !('name' in chassisRaw);
    const chassis = named ? rec(Object.values(chassisRaw)[0]) : chassisRaw;
    const port = rec(one(body['port']));
    const vlan = rec(one(body['vlan']));
    out[nic] = {
      switch_name: val(chassis['name']) ?? (named ? Object.keys(chassisRaw)[0] : undefined),
      switch_id: val(chassis['id']),
      port_id: val(port['id']),
      port_descr: val(port['descr']),
      vlan: Number.parseInt(str(vlan['vlan-id']) ?? '', 10) || undefined,
      mgmt_ip: val(arr(chassis['mgmt-ip'])[0] ?? chassis['mgmt-ip']),
    };
  }
  return out;
}

function fromKeyvalue(text: string): Record<string, LldpNeighbour> {
  const out: Record<string, LldpNeighbour> = {};
  for (const line of lines(text)) {
    const m = /^lldp\.([^.=]+)\.([^=]+)=(.*)$/.exec(line);
    if (!m) continue;
    const [, nic, key, value] = m as unknown as [string, string, string, string];
    if (!(nic in out) && Object.keys(out).length >= MAX_IFACES) continue;
    const n = (out[nic] ??= {});
    const v = value.trim();
    if (key === 'chassis.name') n.switch_name ??= v;
    else if (key === 'chassis.mac' || key === 'chassis.id') n.switch_id ??= v;
    else if (key === 'chassis.mgmt-ip') n.mgmt_ip ??= v;
    else if (key === 'port.ifname' || key === 'port.local' || key === 'port.mac') n.port_id ??= v;
    else if (key === 'port.descr') n.port_descr ??= v === 'Not received' ? undefined : v;
    else if (key === 'vlan.vlan-id') n.vlan ??= Number.parseInt(v, 10) || undefined;
  }
  return out;
}

/** Parse either lldpctl format. */
export function parseLldp(text: string): Record<string, LldpNeighbour> {
  return looksJson(text) ? fromJson(text) : fromKeyvalue(text);
}
