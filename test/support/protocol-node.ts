/**
 * A minimal protocol client for core tests: boots like iPXE (/boot), reads the
 * enrolment token from the script, registers and checks in. The real agent
 * (agent/) is tested against the core separately.
 */
import type { Facts, Inventory } from '../../contract/index.ts';
import { factsHash } from '../../contract/facts-hash.ts';
import type { TestAppliance } from './route-appliance.ts';

/** Parse crashcart.* kernel arguments out of a boot script. */
export function kernelArgs(script: string): { url?: string; node?: number; token?: string } {
  const get = (k: string) => new RegExp(`crashcart\\.${k}=(\\S+)`).exec(script)?.[1];
  const node = get('node');
  return { url: get('url'), node: node ? Number(node) : undefined, token: get('token') };
}

/** A minimal valid inventory. */
export function inventory(over: Partial<Inventory> = {}): Inventory {
  return {
    system: { manufacturer: 'Dell Inc.', product: 'PowerEdge R640', serial: 'SER1' },
    firmware: { boot_mode: 'uefi' },
    cpu: { model: 'Xeon', threads: 32, sockets: 2, cores: 16 },
    memory: { total_mb: 65536, modules: [] },
    disks: [{ name: 'sda', size_bytes: 480e9, type: 'disk' }],
    nics: [{ name: 'eno1', mac: '52:54:00:00:00:01' }],
    pci: [],
    undriven_nics: [],
    collector_errors: [],
    ...over,
  };
}

/** One simulated machine. */
export class ProtocolNode {
  nodeId = 0;
  agentToken = '';
  script = '';

  constructor(
    readonly t: TestAppliance,
    readonly macs: string[],
    public facts: Facts,
    readonly serial = `SN-${macs[0]}`,
    readonly uuid: string | undefined = undefined,
  ) {}

  /** GET /boot as iPXE would. */
  async boot(): Promise<string> {
    const q = new URLSearchParams({
      mac: this.macs[0]!,
      serial: this.serial,
      ...(this.uuid ? { uuid: this.uuid } : {}),
      arch: 'x86_64',
      platform: 'efi',
    });
    const r = await this.t.node('GET', `/boot?${q}`);
    if (r.status !== 200) throw new Error(`boot ${r.status} ${r.text}`);
    this.script = r.text;
    return r.text;
  }

  /** Register with the token from the last boot script (or the agent token). */
  async register(tokenOverride?: string): Promise<{ status: number; body: any }> {
    const ka = kernelArgs(this.script);
    const r = await this.t.node('POST', '/api/v1/register', {
      hw_id: this.macs.join(','),
      ...(ka.node ? { node_id: ka.node } : {}),
      macs: this.macs,
      serial: this.serial,
      ...(this.uuid ? { uuid: this.uuid } : {}),
      token: tokenOverride ?? (this.agentToken || ka.token),
      facts: this.facts,
      inventory: inventory({ system: { manufacturer: String(this.facts.manufacturer ?? 'Dell Inc.'), serial: this.serial } }),
    });
    if (r.status === 200) {
      this.nodeId = r.body.node_id;
      this.agentToken = r.body.agent_token;
    }
    return r;
  }

  /** Check in. */
  async checkin(first = false): Promise<{ status: number; body: any }> {
    return this.t.node('POST', '/api/v1/checkin', {
      node_id: this.nodeId,
      agent_token: this.agentToken,
      state: 'running',
      facts_hash: factsHash(this.facts),
      first_checkin: first,
    });
  }
}
