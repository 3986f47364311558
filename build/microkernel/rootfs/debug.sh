#!/bin/sh
# Debug images only (build --debug): a root login on the serial console and SSH (dropbear) with the
# key given at build time. Production images do not contain this file, dropbear, or a password.
mkdir -p /etc/dropbear /root/.ssh
chmod 700 /root/.ssh
dropbear -R -E -p 22 >/run/crashcart/dropbear.log 2>&1 && echo "crashcart-init: dropbear listening on :22"
for tty in ttyS0 tty1; do
  [ -c "/dev/$tty" ] && (while :; do setsid getty -n -l /bin/sh 115200 "/dev/$tty" vt100; sleep 1; done) &
done
