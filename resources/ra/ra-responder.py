#!/usr/bin/env python3
"""Crashcart RA responder: answers IPv6 router solicitations on one NIC with a
router advertisement that carries no prefix, managed=0, other=0 and router
lifetime 0 ("there is no IPv6 here"). iPXE's IPv6 autoconfiguration finishes on
such an RA instead of waiting ~16 s for one that never comes. Hosts ignore it
(lifetime 0: not a default router). Written for Crashcart; Python because Node
cannot open raw ICMPv6 sockets.

usage: ra-responder.py IFACE [INTERVAL_S] [--solicited-only]

Full DHCP (isolated rack): repeats the RA to all nodes every INTERVAL_S
seconds, and answers a solicitation at once, unicast to its link-local source
(RFC 4861 6.2.6 allows a unicast answer; its random delay of up to 0.5 s is
left out, since the machine waits on it and this RA makes no router). A
solicitation from the unspecified address (a host still in DAD) cannot be
answered unicast: it gets the multicast RA, at most one every
MIN_DELAY_BETWEEN_RAS (3 s, RFC 4861 6.2.6 and 10). A rack
of a hundred machines powering on together is a hundred solicitations; answered
to all nodes, each machine would take in a hundred RAs, and anyone on the rack
could make us flood it by soliciting.

--solicited-only (proxyDHCP, beside the site's own network): sends nothing
unsolicited and nothing multicast. It answers only the machines the appliance
is booting: the appliance writes `allow MAC` lines on stdin when it answers a
PXE client, and a solicitation whose source link-layer address (RFC 4861 4.1)
is such a MAC, from a link-local address, gets the RA unicast to that address
(RFC 4861 6.2.6 allows a unicast answer). A solicitation that arrived before the
allow line (iPXE starts IPv6 and DHCP together) is answered when the line comes.
Other hosts on the site network never see an RA from us.
"""
import os
import select
import stat
import socket
import struct
import sys
import time

ICMP6_RS, ICMP6_RA = 133, 134
SO_BINDTODEVICE = 25
OPT_SOURCE_LLADDR = 1
# An allowed MAC stays allowed this long (a boot's iPXE stages fit well inside).
ALLOW_S = 600.0
# A solicitation is remembered this long for an allow line still to come.
PENDING_S = 30.0
MAX_ENTRIES = 4096
# RFC 4861 10: the least time between two RAs to all nodes.
MIN_DELAY_BETWEEN_RAS = 3.0
# ICMP6_FILTER (linux/icmpv6.h, level IPPROTO_ICMPV6): eight 32-bit words, a set bit blocks that type.
ICMP6_FILTER = 1


def only_solicitations() -> bytes:
    """The ICMPv6 filter that lets only router solicitations reach the socket (not every NS and MLD report)."""
    words = [0xFFFFFFFF] * 8
    words[ICMP6_RS >> 5] &= ~(1 << (ICMP6_RS & 31)) & 0xFFFFFFFF
    return struct.pack("@8I", *words)


def source_mac(rs: bytes):
    """The source link-layer address option of a router solicitation (RFC 4861 4.1, 4.6.1), or None."""
    i = 8
    while i + 2 <= len(rs):
        kind, units = rs[i], rs[i + 1]
        if units == 0:
            return None
        if kind == OPT_SOURCE_LLADDR and units == 1 and i + 8 <= len(rs):
            return ":".join(f"{b:02x}" for b in rs[i + 2:i + 8])
        i += units * 8
    return None


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
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, iface.encode())
    s.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, only_solicitations())
    # RFC 4861 6.1.2: hop limit 255, or receivers drop the RA.
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, socket.inet_pton(socket.AF_INET6, "ff02::2") + struct.pack("@I", ifindex))
    # RFC 4861 4.2: type, code, checksum (the kernel fills it), cur hop limit, flags (M=0, O=0),
    # router lifetime 0, reachable time 0, retrans timer 0; no options.
    ra = struct.pack("!BBHBBHII", ICMP6_RA, 0, 0, 64, 0, 0, 0, 0)
    sys.stdout.write(f"ready {iface} {ifindex}{' solicited-only' if solicited_only else ''}\n")
    sys.stdout.flush()
    # Exit with the appliance: it holds our stdin pipe open and closes it when it stops.
    mode = os.fstat(0).st_mode
    watch = [s, sys.stdin] if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) else [s]
    allowed = {}  # mac -> (expires,)
    pending = {}  # mac -> (expires, link-local source address)
    next_at = 0.0 if not solicited_only else float("inf")
    last_multicast = float("-inf")

    def answer(addr: str) -> None:
        try:
            s.sendto(ra, (addr, 0, 0, ifindex))
        except OSError as e:
            sys.stdout.write(f"error {e}\n")
            sys.stdout.flush()

    while True:
        now = time.monotonic()
        if now >= next_at:
            answer("ff02::1")
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
                    answer(waiting[1])
        if s in r:
            data, peer = s.recvfrom(1500)
            if len(data) < 8 or data[0] != ICMP6_RS:
                continue
            src = peer[0].split("%")[0]
            # Only a link-local source can be answered unicast; an unspecified one carries no SLLA (4.1).
            link_local = src.lower().startswith("fe80:")
            if not solicited_only:
                # iPXE is waiting: answer at once, unicast. From "::" only the rate-limited multicast RA can reach it.
                if link_local:
                    answer(src)
                else:
                    next_at = min(next_at, max(now, last_multicast + MIN_DELAY_BETWEEN_RAS))
                continue
            mac = source_mac(data)
            if mac is None or not link_local:
                continue
            prune(allowed, now)
            if mac in allowed:
                answer(src)
            else:
                prune(pending, now)
                pending[mac] = (now + PENDING_S, src)


if __name__ == "__main__":
    sys.exit(main())
