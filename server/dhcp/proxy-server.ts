/**
 * proxyDHCP (PXE 2.1 2.2.5, 2.2.6): beside another DHCP server, answer only
 * PXE/HTTP boot clients with boot information and never an address. On 67
 * only DISCOVER gets an OFFER; on the proxy port (4011) a REQUEST gets an ACK.
 */
import { OPTIONS, MSG, PXE_BOOT_ITEM, option, readOption, subOptions } from './options.ts';
import { buildReply, clientIdToEcho, relayInfoToEcho, replyTarget } from './reply.ts';
import { isUefi } from './classify.ts';
import { bootOptions } from './boot-options.ts';
import { tlv } from './structured-codecs.ts';
import { ipToInt, prefixMask } from '../net/ipv4.ts';
import type { Request } from './request.ts';
import type { Outgoing, ProxyContext } from './context.ts';

const ZERO = '0.0.0.0';

/**
 * True when proxy mode answers a relay at `giaddr`: only one on the NIC's own subnet. The subnets behind the site's
 * relays are the site's, not ours to know; answered, a forged giaddr would aim our OFFER (and the option 82 it echoes)
 * at any host through the site's routes (docs/dhcp.md, "Where replies go").
 */
export function relayOnOwnSubnet(giaddr: string, serverIp: string, prefix: number): boolean {
  const g = ipToInt(giaddr);
  const s = ipToInt(serverIp);
  return g !== null && s !== null && ((g ^ s) & prefixMask(prefix)) >>> 0 === 0;
}

/** Handle one request in proxy mode (`r.onProxyPort`: it arrived on 4011). */
export async function handleProxy(c: ProxyContext, r: Request): Promise<Outgoing[]> {
  const onProxyPort = r.onProxyPort;
  if (onProxyPort ? r.type !== MSG.REQUEST && r.type !== MSG.INFORM : r.type !== MSG.DISCOVER) {
    c.count('proxy_ignored');
    return [];
  }
  if (r.pkt.giaddr !== ZERO && !relayOnOwnSubnet(r.pkt.giaddr, c.serverIp, c.prefix)) {
    c.count('relay_not_served');
    return [];
  }
  const choice = await c.bootChoice(r);
  if (!choice) {
    c.count('proxy_not_pxe');
    return [];
  }
  if (choice.fullOnly) {
    c.count('proxy_uboot');
    c.unsupported(r, 'U-Boot takes the first DHCP offer and knows no proxyDHCP; serve this rack in full DHCP mode');
    return [];
  }
  c.report(onProxyPort ? 'dhcp.request' : 'dhcp.discover', r, r.type, { proxy: true, port: onProxyPort ? 'proxy' : 'dhcp' });
  let send43 = false;
  let strategy: string | null = null;
  if (onProxyPort) {
    // The firmware came to 4011: remember its address so a TFTP request can be matched to the MAC.
    const ip = r.pkt.ciaddr !== ZERO ? r.pkt.ciaddr : r.from.address;
    if (ip !== ZERO) c.noteClientIp(ip, r.mac);
  } else if (choice.kind === 'tftp' && !r.facts.ipxe) {
    if (isUefi(r.facts.arch)) {
      const s = c.strategies.choose(r.mac, r.pkt.xid, c.now());
      strategy = s.strategy;
      send43 = s.strategy === 'send43';
      if (s.flipped) c.strategyChanged(r, s.strategy);
    } else {
      send43 = true; // BIOS PXE ROMs boot the file with discovery control 8
    }
  }
  const msg = onProxyPort ? MSG.ACK : MSG.OFFER;
  const options: [number, Uint8Array][] = [
    option(OPTIONS.MESSAGE_TYPE, msg),
    // Option 54 is required in proxy replies, or clients go asking on 4011 (PXE-NOTES).
    option(OPTIONS.SERVER_ID, c.serverIp),
  ];
  options.push(...bootOptions(r, { ...choice, vendorClass: choice.vendorClass ?? 'PXEClient' }, send43, false));
  if (onProxyPort) {
    const v43 = r.opts.get(OPTIONS.VENDOR_SPECIFIC.code);
    const item = v43 ? subOptions(v43, OPTIONS.VENDOR_SPECIFIC.code).get(PXE_BOOT_ITEM) : undefined;
    // PXE 2.1: the boot item is 4 bytes (type, layer). One of 254 or 255 would not fit an option once wrapped (2 + data).
    if (item && item.length <= 253) options.push([OPTIONS.VENDOR_SPECIFIC.code, tlv.encode([[PXE_BOOT_ITEM, item]])]);
  }
  // Always next-server = us: iPXE ignores a ProxyDHCP reply without siaddr + file ("PXE options"),
  // and an embedded script chains from ${next-server}.
  const buf = buildReply(
    r.pkt,
    { yiaddr: ZERO, siaddr: c.serverIp, file: choice.file, options },
    relayInfoToEcho(r.pkt, r.opts),
    readOption(r.opts, OPTIONS.MAX_MESSAGE),
    clientIdToEcho(r.opts),
  );
  // PXE 2.1: the boot server answers the port the REQUEST came from (the datagram's source: a reply of about the
  // request's size, docs/security.md). The OFFER on 67 goes to the relay or is broadcast: the client has no address of
  // ours yet, and a DISCOVER's ciaddr MUST be 0 (RFC 2131 table 5), so it is never a destination.
  const to = onProxyPort && r.from.address !== ZERO ? { address: r.from.address, port: r.from.port } : replyTarget(r.pkt, false, null);
  c.count(onProxyPort ? 'proxy_acks' : 'proxy_offers');
  c.report(onProxyPort ? 'dhcp.ack' : 'dhcp.offer', r, msg, { proxy: true, file: choice.file, strategy });
  return [{ buf, to }];
}
