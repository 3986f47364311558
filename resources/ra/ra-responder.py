#!/usr/bin/env python3
"""Crashcart RA responder: answers IPv6 router solicitations on one NIC with a
router advertisement that carries no prefix, managed=0, other=0 and router
lifetime 0 ("there is no IPv6 here"). iPXE's IPv6 autoconfiguration finishes on
such an RA instead of waiting ~16 s for one that never comes. Hosts ignore it
(lifetime 0: not a default router). Written for Crashcart; Python because Node
cannot open raw ICMPv6 sockets.

usage: ra-responder.py IFACE [INTERVAL_S]
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


def main() -> int:
    iface = sys.argv[1]
    interval = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    ifindex = socket.if_nametoindex(iface)
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, iface.encode())
    # RFC 4861 6.1.2: hop limit 255, or receivers drop the RA.
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, socket.inet_pton(socket.AF_INET6, "ff02::2") + struct.pack("@I", ifindex))
    # RFC 4861 4.2: type, code, checksum (the kernel fills it), cur hop limit, flags (M=0, O=0),
    # router lifetime 0, reachable time 0, retrans timer 0; no options.
    ra = struct.pack("!BBHBBHII", ICMP6_RA, 0, 0, 64, 0, 0, 0, 0)
    sys.stdout.write(f"ready {iface} {ifindex}\n")
    sys.stdout.flush()
    # Exit with the appliance: it holds our stdin pipe open and closes it when it stops.
    mode = os.fstat(0).st_mode
    watch = [s, sys.stdin] if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) else [s]
    sent = 0
    next_at = 0.0
    while True:
        now = time.monotonic()
        if now >= next_at:
            try:
                s.sendto(ra, ("ff02::1", 0, 0, ifindex))
                sent += 1
            except OSError as e:
                sys.stdout.write(f"error {e}\n")
                sys.stdout.flush()
            next_at = now + interval
        r, _, _ = select.select(watch, [], [], max(0.0, next_at - now))
        if sys.stdin in r and not sys.stdin.readline():
            return 0  # the appliance went away: so do we
        if s in r:
            data, peer = s.recvfrom(1500)
            if len(data) >= 1 and data[0] == ICMP6_RS:
                # Answer at once (RFC 4861 6.2.6 allows a multicast reply); iPXE is waiting.
                try:
                    s.sendto(ra, ("ff02::1", 0, 0, ifindex))
                    sent += 1
                except OSError:
                    pass


if __name__ == "__main__":
    sys.exit(main())
