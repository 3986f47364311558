/**
 * proxyDHCP (PXE 2.1 2.2.5, 2.2.6): beside another DHCP server, answer only
 * PXE/HTTP boot clients with boot information and never an address. On 67
 * only DISCOVER gets an OFFER; on the proxy port (4011) a REQUEST gets an ACK.
 */
import { OPT, MSG, ipBytes, maxMessageSize, subOptions, encodeSubOptions } from './options.ts';
import { buildReply, replyTarget } from './reply.ts';
import { isUefi } from './classify.ts';
import type { DhcpHandler, Outgoing, Request } from './handler.ts';

const ZERO = '0.0.0.0';
/** PXE 2.1 option 43 sub-option 71: boot item (type, layer), echoed by the boot server. */
const PXE_BOOT_ITEM = 71;

/** Handle one request in proxy mode (`onProxyPort`: it arrived on 4011). */
export async function handleProxy(h: DhcpHandler, r: Request, onProxyPort: boolean): Promise<Outgoing[]> {
  if (onProxyPort ? r.type !== MSG.REQUEST && r.type !== MSG.INFORM : r.type !== MSG.DISCOVER) {
    h.count('proxy_ignored');
    return [];
  }
  const choice = await h.bootChoice(r);
  if (!choice) {
    h.count('proxy_not_pxe');
    return [];
  }
  h.event(onProxyPort ? 'dhcp.request' : 'dhcp.discover', r, r.type, { proxy: true, port: onProxyPort ? 'proxy' : 'dhcp' });
  let send43 = false;
  let strategy: string | null = null;
  if (onProxyPort) {
    // The firmware came to 4011: remember its address so a TFTP request can be matched to the MAC.
    const ip = r.pkt.ciaddr !== ZERO ? r.pkt.ciaddr : r.from.address;
    if (ip !== ZERO) h.d.noteClientIp(ip, r.mac);
  } else if (choice.kind === 'tftp' && !r.facts.ipxe) {
    if (isUefi(r.facts.arch)) {
      const c = h.d.strategies.choose(r.mac, r.pkt.xid, h.d.now());
      strategy = c.strategy;
      send43 = c.strategy === 'send43';
      if (c.flipped) {
        h.d.events.emit('dhcp.proxy', {
          node_id: r.nodeId,
          mac: r.mac,
          message: `${r.mac} did not reach TFTP; proxy strategy now ${c.strategy}`,
          data: { strategy: c.strategy },
        });
      }
    } else {
      send43 = true; // BIOS PXE ROMs boot the file with discovery control 8
    }
  }
  const msg = onProxyPort ? MSG.ACK : MSG.OFFER;
  const options: [number, Uint8Array][] = [
    [OPT.MESSAGE_TYPE, Uint8Array.of(msg)],
    // Option 54 is required in proxy replies, or clients go asking on 4011 (PXE-NOTES).
    [OPT.SERVER_ID, ipBytes(h.d.serverIp)],
  ];
  const boot = h.bootOptions(r, { ...choice, vendorClass: choice.vendorClass ?? 'PXEClient' }, send43, false);
  options.push(...boot);
  if (onProxyPort) {
    const v43 = r.opts.get(OPT.VENDOR_SPECIFIC);
    const item = v43 ? subOptions(v43, OPT.VENDOR_SPECIFIC).get(PXE_BOOT_ITEM) : undefined;
    if (item) options.push([OPT.VENDOR_SPECIFIC, encodeSubOptions([[PXE_BOOT_ITEM, item]])]);
  }
  // Always next-server = us: iPXE ignores a ProxyDHCP reply without siaddr + file ("PXE options"),
  // and an embedded script chains from ${next-server}.
  const siaddr = h.d.serverIp;
  const buf = buildReply(
    r.pkt,
    { yiaddr: ZERO, siaddr, file: choice.file, options },
    r.opts.get(OPT.RELAY_AGENT) ?? null,
    maxMessageSize(r.opts),
  );
  // PXE 2.1: the boot server answers the port the REQUEST came from.
  const to = onProxyPort && r.from.address !== ZERO ? { address: r.from.address, port: r.from.port } : replyTarget(r.pkt, false);
  h.count(onProxyPort ? 'proxy_acks' : 'proxy_offers');
  h.event(onProxyPort ? 'dhcp.ack' : 'dhcp.offer', r, msg, { proxy: true, file: choice.file, strategy });
  return [{ buf, to }];
}
