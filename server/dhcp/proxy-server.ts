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
import type { Request } from './request.ts';
import type { Outgoing, ProxyContext } from './context.ts';

const ZERO = '0.0.0.0';

/** Handle one request in proxy mode (`r.onProxyPort`: it arrived on 4011). */
export async function handleProxy(c: ProxyContext, r: Request): Promise<Outgoing[]> {
  const onProxyPort = r.onProxyPort;
  if (onProxyPort ? r.type !== MSG.REQUEST && r.type !== MSG.INFORM : r.type !== MSG.DISCOVER) {
    c.count('proxy_ignored');
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
    if (item) options.push([OPTIONS.VENDOR_SPECIFIC.code, tlv.encode([[PXE_BOOT_ITEM, item]])]);
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
  // PXE 2.1: the boot server answers the port the REQUEST came from.
  const to = onProxyPort && r.from.address !== ZERO ? { address: r.from.address, port: r.from.port } : replyTarget(r.pkt, false);
  c.count(onProxyPort ? 'proxy_acks' : 'proxy_offers');
  c.report(onProxyPort ? 'dhcp.ack' : 'dhcp.offer', r, msg, { proxy: true, file: choice.file, strategy });
  return [{ buf, to }];
}
