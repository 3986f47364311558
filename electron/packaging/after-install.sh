#!/bin/sh
# .deb post-install: nothing runs as root at run time, and nothing is granted here (never to Electron).
# The server child (the pinned node in resources/node/bin/node) needs to bind DHCP (67) and TFTP (69); the
# operator grants that once to a private copy of it (never a node every program uses; docs/privileges.md):
#   sudo install -D -o root -g "$(id -gn)" -m 0750 /opt/Crashcart/resources/node/bin/node /usr/local/lib/crashcart/node
#   sudo setcap cap_net_bind_service,cap_net_raw+ep /usr/local/lib/crashcart/node
# and starts the app with CRASHCART_NODE=/usr/local/lib/crashcart/node. The app prints these
# exact commands (and a pkexec alternative) when the capability is missing.
exit 0
