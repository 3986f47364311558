/**
 * One simulated machine's whole boot conversation, as a real one has it: PXE ROM DHCP -> TFTP of the
 * first-stage loader -> iPXE's DHCP -> GET /boot.ipxe -> GET /boot?mac=... -> the microkernel's kernel and
 * initrd -> register (facts of a lab profile, from the leased address) -> first check-in. In the
 * reference run (dnsmasq + nginx) the transport part is timed: DHCP, TFTP, iPXE DHCP, the script and the same
 * two files; its register and check-in go to nginx's fixed answers, untimed, so that the rack does the same work
 * in both runs. Every step is timed from the storm's start; retries are counted.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { Inventory } from '../../contract/node.ts';
import { ApplianceClient } from '../../agent/loop/client.ts';
import { buildRegisterRequest, type RegisterIdentity } from '../../agent/loop/register-request.ts';
import { classifyBootScript, expandIpxe, type IpxeVars } from '../../server/lab/ipxe-sim.ts';
import { DhcpClient } from './dhcp-client.ts';
import { tftpRead } from './tftp-client.ts';
import { BodySink } from './body-sink.ts';

/** Who the machine is and where it is plugged. */
export interface MachineSpec {
  index: number;
  mac: string;
  ifindex: number;
  ifname: string;
  /** Policy-routing table for its address (so its packets leave by its own interface). */
  table: number;
  prefix: number;
  inventory: Inventory;
  vars: IpxeVars;
}

/** Step name -> ms since the storm started (end of the step). */
export type Timeline = Partial<
  Record<'dhcp' | 'tftp' | 'ipxe_dhcp' | 'script' | 'boot' | 'kernel' | 'initrd' | 'registered' | 'checkin', number>
>;

/** One machine's result. */
export interface MachineResult {
  index: number;
  mac: string;
  ok: boolean;
  error?: string;
  t: Timeline;
  retries: { dhcp: number; tftp: number; http: number };
  bytes: number;
}

/** Run `ip -batch -` with these lines (the firmware configuring its stack). */
function ipBatch(lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = execFile('ip', ['-batch', '-'], (e, _o, err) => (e ? reject(new Error(`ip: ${err || e.message}`)) : resolve()));
    c.stdin!.end(lines.join('\n') + '\n');
  });
}

/** GET `url`, counting the body; retried like the iPXE script's retry blocks (3 tries, 3 s apart). */
async function fetchBody(agent: http.Agent, url: string, retries: { http: number }): Promise<{ text: string; bytes: number }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise((resolve, reject) => {
        http
          .get(url, { agent }, (res) => {
            const want = Number(res.headers['content-length'] ?? NaN);
            const keep = (res.headers['content-type'] ?? '').startsWith('text/');
            const parts: Buffer[] = [];
            let n = 0;
            res.on('data', (c: Buffer) => {
              n += c.length;
              if (keep) parts.push(c);
            });
            res.on('end', () => {
              if (res.statusCode !== 200) reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
              else if (Number.isFinite(want) && n !== want) reject(new Error(`GET ${url}: ${n} of ${want} bytes`));
              else resolve({ text: Buffer.concat(parts).toString('utf8'), bytes: n });
            });
            res.on('error', reject);
          })
          .on('error', reject);
      });
    } catch (e) {
      if (attempt >= 2) throw e;
      retries.http++;
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
}

/** GET a large body through the machine's sink (body-sink.ts), counting it; retried as fetchBody is (3 tries, 3 s apart). */
async function sinkBody(sink: { current: BodySink | null }, url: string, localAddress: string, retries: { http: number }): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      sink.current ??= new BodySink(new URL(new URL(url).origin), localAddress);
      return await sink.current.get(url);
    } catch (e) {
      sink.current?.close();
      sink.current = null;
      if (attempt >= 2) throw new Error(`GET ${url}: ${e instanceof Error ? e.message : String(e)}`);
      retries.http++;
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
}

/** The microkernel's kernel and initrd URLs in a boot script. */
function assetUrls(script: string): { kernel: string; initrd: string } {
  const kernel = /^\s*kernel\b.*?\s(https?:\/\/\S+)/m.exec(script)?.[1];
  const initrd = /^\s*initrd\b.*?\s(https?:\/\/\S+)/m.exec(script)?.[1];
  if (!kernel || !initrd) throw new Error('the boot script names no kernel and initrd');
  return { kernel, initrd };
}

/**
 * Boot one machine. `reference`: time the transport part only (dnsmasq + nginx cannot register; nginx answers a fixed one).
 * `assetBase` (bench/storm `--assets-from nginx`): fetch the kernel and initrd the script names from there instead
 * (`<assetBase>/vmlinuz`, `<assetBase>/initrd.img`), to see what the downloads cost on Crashcart's side.
 */
export async function bootMachine(m: MachineSpec, t0: number, reference: boolean, assetBase?: string): Promise<MachineResult> {
  const at = () => Math.round(performance.now() - t0);
  const r: MachineResult = { index: m.index, mac: m.mac, ok: false, t: {}, retries: { dhcp: 0, tftp: 0, http: 0 }, bytes: 0 };
  const guid = Buffer.from(m.vars.uuid.replace(/-/g, ''), 'hex');
  const dhcp = new DhcpClient(m.mac, m.ifindex, guid);
  let agent: http.Agent | null = null;
  const sink: { current: BodySink | null } = { current: null };
  try {
    await dhcp.open();
    const rom = await dhcp.dora('pxe');
    r.t.dhcp = at();
    await ipBatch([`addr add ${rom.ip}/${m.prefix} dev ${m.ifname}`, `rule add from ${rom.ip} table ${m.table}`]);
    const tftp = await tftpRead(rom.siaddr !== '0.0.0.0' ? rom.siaddr : rom.server, rom.file, rom.ip, m.ifindex);
    r.retries.tftp = tftp.retries;
    r.bytes += tftp.bytes;
    r.t.tftp = at();
    const ipxe = await dhcp.dora('ipxe');
    r.t.ipxe_dhcp = at();
    if (ipxe.ip !== rom.ip) throw new Error(`iPXE got ${ipxe.ip}, the ROM had ${rom.ip}`);
    if (!/^https?:\/\//.test(ipxe.file)) throw new Error(`iPXE was offered "${ipxe.file}", not a script URL (chainload loop)`);
    agent = new http.Agent({ keepAlive: true, localAddress: rom.ip, maxSockets: 1 });
    const bootIpxe = await fetchBody(agent, ipxe.file, r.retries);
    r.t.script = at();
    let script = bootIpxe.text;
    if (!reference) {
      const d = classifyBootScript(script);
      if (d.kind !== 'chain') throw new Error(`/boot.ipxe: expected a chain to /boot, got ${d.kind}`);
      script = (await fetchBody(agent, expandIpxe(d.url, m.vars), r.retries)).text;
      r.t.boot = at();
    }
    const named = assetUrls(script); // the script must name both, wherever they are then fetched from
    const urls = assetBase ? { kernel: `${assetBase}/vmlinuz`, initrd: `${assetBase}/initrd.img` } : named;
    r.bytes += await sinkBody(sink, urls.kernel, rom.ip, r.retries);
    r.t.kernel = at();
    r.bytes += await sinkBody(sink, urls.initrd, rom.ip, r.retries);
    r.t.initrd = at();
    sink.current?.close();
    // dnsmasq + nginx cannot register, but the reference rack still does a machine's side of it (the same facts, JSON
    // and two POSTs, answered by nginx with a fixed valid answer; servers.ts), untimed, while the other machines
    // download: the rack is one process at the limit of one core, and work it did only against Crashcart slowed
    // Crashcart's storm.
    let origin = new URL(ipxe.file).origin;
    let id: RegisterIdentity = { token: `storm-${m.index}` };
    if (!reference) {
      const d = classifyBootScript(script);
      if (d.kind !== 'microkernel') throw new Error(`/boot answered ${d.kind}, not the microkernel`);
      origin = d.url ?? origin;
      id = { token: d.token, nodeId: d.nodeId };
    }
    const client = new ApplianceClient(origin, { httpAgent: agent });
    const { request, facts_hash } = buildRegisterRequest(m.inventory, id, null);
    const reg = await client.register(request);
    if (!reference) r.t.registered = at();
    const c = await client.checkin({
      node_id: reg.node_id,
      agent_token: reg.agent_token,
      state: 'running',
      facts_hash,
      first_checkin: true,
    });
    if (c.command !== 'acknowledge') throw new Error(`first check-in answered ${c.command}`);
    if (!reference) r.t.checkin = at();
    r.ok = true;
  } catch (e) {
    r.error = e instanceof Error ? e.message : String(e);
  } finally {
    r.retries.dhcp = dhcp.retries;
    dhcp.close();
    agent?.destroy();
    sink.current?.close();
  }
  return r;
}
