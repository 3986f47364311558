#!/usr/bin/env python3
"""Crashcart RA responder: answers IPv6 router solicitations on one NIC with a
router advertisement that carries no prefix, managed=0, other=0 and router
lifetime 0 ("there is no IPv6 here"). iPXE's IPv6 autoconfiguration finishes on
such an RA instead of waiting ~16 s for one that never comes. Hosts ignore it
(lifetime 0: not a default router). Written for Crashcart; Python because Node
cannot open raw ICMPv6 or packet sockets.

usage: ra-responder.py IFACE [INTERVAL_S] [--solicited-only]

Solicitations are read from a packet socket (a kernel filter lets router
solicitations through and nothing else), so each comes with the Ethernet source
address of its frame. One is answered only when it is valid (RFC 4861 6.1.1: IP
hop limit 255, so no router forwarded it; code 0; a correct checksum; no option
of length 0; none carrying a source link-layer address from "::"), names no
other MAC in its source link-layer address option than the frame's, and comes
from the link-local address that MAC makes (EUI-64, RFC 4291 2.5.1; iPXE and
Linux form theirs that way). The answer is one frame addressed to that MAC, with
that address as IPv6 destination: no neighbour solicitation goes out first, and
no other host is sent anything. A host gets at most one answer per
MIN_DELAY_BETWEEN_RAS (3 s), however often it solicits. The RFC's random delay
of up to 0.5 s before an answer, which keeps several routers' answers apart, is
left out, since the machine waits on it and this RA makes no router.

Full DHCP (isolated rack): also repeats the RA to all nodes every INTERVAL_S
seconds. A solicitation from the unspecified address (a host still in DAD)
cannot be answered unicast: it gets the RA to all nodes, at most one every
MIN_DELAY_BETWEEN_RAS (RFC 4861 6.2.6 and 10). Answered to all nodes, a rack of
a hundred machines powering on together would take in a hundred RAs each, and
anyone on the rack could make us flood it by soliciting.

--solicited-only (proxyDHCP, beside the site's own network): sends nothing
unsolicited and nothing multicast. It answers only the machines the appliance
is booting: the appliance writes `allow MAC` lines on stdin when it answers a
PXE client, and a valid solicitation whose frame came from such a MAC gets the
RA as above. A solicitation that arrived before the allow line (iPXE starts IPv6
and DHCP together) is answered when the line comes. Other hosts on the site
network never see an RA from us.
"""
import ctypes
import os
import select
import stat
import socket
import struct
import sys
import time

ICMP6_RS, ICMP6_RA = 133, 134
SO_BINDTODEVICE = 25
SO_ATTACH_FILTER = 26
ETH_P_IPV6 = 0x86DD
# Packet types of a received frame (linux/if_packet.h): to us, broadcast, multicast. Not another host's
# (promiscuous mode) and not our own outgoing frames.
FOR_US = (0, 1, 2)
OPT_SOURCE_LLADDR = 1
# An allowed MAC stays allowed this long (a boot's iPXE stages fit well inside).
ALLOW_S = 600.0
# A solicitation is remembered this long for an allow line still to come.
PENDING_S = 30.0
MAX_ENTRIES = 4096
# RFC 4861 10: the least time between two RAs to all nodes; also between two answers to one host here.
MIN_DELAY_BETWEEN_RAS = 3.0
# ICMP6_FILTER (linux/icmpv6.h, level IPPROTO_ICMPV6): eight 32-bit words, a set bit blocks that type.
ICMP6_FILTER = 1
UNSPECIFIED = bytes(16)
# Classic BPF on the packet socket (offsets from the IPv6 header): next header 58 (ICMPv6, no extension
# header) and ICMPv6 type 133, else drop. So the socket takes in router solicitations only, not every
# neighbour solicitation and multicast report of the segment.
RS_FILTER = [
    (0x30, 0, 0, 6),  # ldb [6]
    (0x15, 0, 3, 58),  # jeq #58, next, drop
    (0x30, 0, 0, 40),  # ldb [40]
    (0x15, 0, 1, ICMP6_RS),  # jeq #133, accept, drop
    (0x06, 0, 0, 0xFFFF),  # accept
    (0x06, 0, 0, 0),  # drop
]
# RFC 4861 4.2: type, code, checksum, cur hop limit, flags (M=0, O=0), router lifetime 0, reachable
# time 0, retrans timer 0; no options.
RA = struct.pack("!BBHBBHII", ICMP6_RA, 0, 0, 64, 0, 0, 0, 0)


def block_all() -> bytes:
    """The ICMPv6 filter that lets nothing reach the raw socket: it only sends, solicitations come in on the packet socket."""
    return struct.pack("@8I", *([0xFFFFFFFF] * 8))


def attach_filter(sock: socket.socket, program: list) -> None:
    code = b"".join(struct.pack("HBBI", *ins) for ins in program)
    buf = ctypes.create_string_buffer(code, len(code))
    # struct sock_fprog: an unsigned short count, then a pointer to the instructions (the kernel copies them).
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", len(program), ctypes.addressof(buf)))


def checksum(src: bytes, dst: bytes, icmp: bytes) -> int:
    """The ICMPv6 checksum over the pseudo-header (RFC 4443 2.3, RFC 8200 8.1); 0 for a packet that carries a correct one."""
    data = src + dst + struct.pack("!I3xB", len(icmp), 58) + icmp
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def eui64_link_local(mac: bytes) -> bytes:
    """The link-local address a host forms from its MAC (RFC 4291 2.5.1, appendix A)."""
    return b"\xfe\x80" + bytes(6) + bytes([mac[0] ^ 2, mac[1], mac[2], 0xFF, 0xFE, mac[3], mac[4], mac[5]])


def valid_solicitation(ip6: bytes, frame_mac: bytes):
    """The IPv6 source of a router solicitation to answer (RFC 4861 6.1.1, and the frame's MAC behind it), or None."""
    if len(ip6) < 48 or ip6[0] >> 4 != 6 or ip6[6] != 58:
        return None
    # Hop limit 255: sent on this link, not forwarded by a router.
    if ip6[7] != 255:
        return None
    (length,) = struct.unpack_from("!H", ip6, 4)
    icmp = ip6[40 : 40 + length]
    if length < 8 or len(icmp) != length or icmp[0] != ICMP6_RS or icmp[1] != 0:
        return None
    src, dst = ip6[8:24], ip6[24:40]
    if checksum(src, dst, icmp) != 0:
        return None
    i = 8
    while i < len(icmp):
        if i + 2 > len(icmp) or icmp[i + 1] == 0:
            return None  # every option has a length > 0 (6.1.1)
        kind, size = icmp[i], icmp[i + 1] * 8
        if kind == OPT_SOURCE_LLADDR:
            # None from "::" (6.1.1); and no other MAC than the frame's: a solicitation speaks for its sender only.
            if src == UNSPECIFIED or size != 8 or icmp[i + 2 : i + 8] != frame_mac:
                return None
        i += size
    if i != len(icmp):
        return None
    return src


def mac_text(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)


def prune(d: dict, now: float) -> None:
    for k in [k for k, v in d.items() if v[0] < now]:
        del d[k]
    while len(d) > MAX_ENTRIES:
        del d[next(iter(d))]


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    solicited_only = "--solicited-only" in sys.argv[1:]
    iface = args[0]
    interval = float(args[1]) if len(args) > 1 else 10.0
    ifindex = socket.if_nametoindex(iface)
    # Sends the RA to all nodes (full mode) and holds the all-routers group, so the NIC takes in
    # solicitations sent to it.
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, iface.encode())
    s.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, block_all())
    # RFC 4861 6.1.2: hop limit 255, or receivers drop the RA.
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, socket.inet_pton(socket.AF_INET6, "ff02::2") + struct.pack("@I", ifindex))
    # Takes in solicitations with the Ethernet source of their frame, and sends the unicast answers. The filter
    # goes on before the socket is bound, so nothing unfiltered is ever queued.
    p = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, 0)
    attach_filter(p, RS_FILTER)
    p.bind((iface, ETH_P_IPV6))
    sys.stdout.write(f"ready {iface} {ifindex}{' solicited-only' if solicited_only else ''}\n")
    sys.stdout.flush()
    # Exit with the appliance: it holds our stdin pipe open and closes it when it stops.
    mode = os.fstat(0).st_mode
    watch = [p, sys.stdin] if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) else [p]
    allowed = {}  # mac -> (expires,)
    pending = {}  # mac -> (expires, link-local source address, MAC bytes)
    answered = {}  # mac -> (when it may be answered again,)
    next_at = 0.0 if not solicited_only else float("inf")
    last_multicast = float("-inf")

    def error(e: object) -> None:
        sys.stdout.write(f"error {e}\n")
        sys.stdout.flush()

    def to_all_nodes() -> None:
        try:
            s.sendto(RA, ("ff02::1", 0, 0, ifindex))
        except OSError as e:
            error(e)

    def own_link_local():
        """Our link-local address on the NIC (the kernel's choice of source towards the link), or None."""
        u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        try:
            u.connect(("ff02::1", 9, 0, ifindex))
            a = socket.inet_pton(socket.AF_INET6, u.getsockname()[0].split("%")[0])
            return a if a[:2] == b"\xfe\x80" else None
        except OSError:
            return None
        finally:
            u.close()

    def answer(mac: bytes, dst: bytes, now: float) -> None:
        """The RA in one frame to `mac`, to its link-local address `dst`; one per host and MIN_DELAY_BETWEEN_RAS."""
        prune(answered, now)
        if mac in answered:
            return
        src = own_link_local()
        if src is None:
            error("no link-local address on the NIC")
            return
        body = bytearray(RA)
        struct.pack_into("!H", body, 2, checksum(src, dst, bytes(body)))
        packet = struct.pack("!IHBB", 6 << 28, len(body), 58, 255) + src + dst + bytes(body)
        try:
            p.sendto(packet, (iface, ETH_P_IPV6, 0, 0, mac))
            answered[mac] = (now + MIN_DELAY_BETWEEN_RAS,)
        except OSError as e:
            error(e)

    while True:
        now = time.monotonic()
        if now >= next_at:
            to_all_nodes()
            last_multicast = now
            next_at = now + interval
        r, _, _ = select.select(watch, [], [], None if next_at == float("inf") else max(0.0, next_at - now))
        now = time.monotonic()
        if sys.stdin in r:
            line = sys.stdin.readline()
            if not line:
                return 0  # the appliance went away: so do we
            parts = line.split()
            if solicited_only and len(parts) == 2 and parts[0] == "allow":
                mac = parts[1].lower()
                prune(allowed, now)
                allowed[mac] = (now + ALLOW_S,)
                waiting = pending.pop(mac, None)
                if waiting and waiting[0] >= now:
                    answer(waiting[2], waiting[1], now)
        if p in r:
            data, peer = p.recvfrom(2048)
            frame_mac = peer[4] if len(peer) > 4 else b""
            if peer[2] not in FOR_US or len(frame_mac) != 6:
                continue
            src = valid_solicitation(data, frame_mac)
            if src is None:
                continue
            if src == UNSPECIFIED:
                # Full mode: iPXE in DAD waits too, and only the rate-limited RA to all nodes can reach it.
                if not solicited_only:
                    next_at = min(next_at, max(now, last_multicast + MIN_DELAY_BETWEEN_RAS))
                continue
            # Only the link-local address the frame's MAC makes is answered: another would aim the RA at a host
            # that did not ask (its neighbour discovery goes to the segment) on the sender's word.
            if src != eui64_link_local(frame_mac):
                continue
            if not solicited_only:
                answer(frame_mac, src, now)
                continue
            mac = mac_text(frame_mac)
            prune(allowed, now)
            if mac in allowed:
                answer(frame_mac, src, now)
            else:
                prune(pending, now)
                pending[mac] = (now + PENDING_S, src, frame_mac)


if __name__ == "__main__":
    sys.exit(main())
