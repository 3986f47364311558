#!/bin/sh
# .deb post-install: nothing runs as root at run time. The server child needs to bind
# DHCP (67) and TFTP (69); the operator grants that once to the system node with:
#   sudo setcap cap_net_bind_service,cap_net_raw+ep "$(readlink -f "$(command -v node)")"
# The app prints this exact command (and a pkexec alternative) when the capability is missing.
exit 0
