#!/bin/sh
# mmdebstrap --customize-hook, last: does mmdebstrap's cleanup itself (it runs after the hooks) and
# packs the tree "$1" into an ext4 image with `mke2fs -d` (no loop device, no partition mounted). In unshare mode
# this runs inside the user namespace, so files keep uid 0 without real root.
# Environment: CC_ROOT_UUID, CC_OUT, CC_ROOT_SLACK_MB (free space left in the filesystem), SOURCE_DATE_EPOCH.
# Needs debugfs (e2fsprogs) besides mke2fs.
set -eu
root="$1"
: "${CC_ROOT_UUID:?}" "${CC_OUT:?}" "${CC_ROOT_SLACK_MB:=256}" "${SOURCE_DATE_EPOCH:?}"
export CC_ROOT_UUID CC_OUT CC_ROOT_SLACK_MB SOURCE_DATE_EPOCH

rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/var/cache/apt/archives/partial/* "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old
rm -f "$root"/var/log/dpkg.log "$root"/var/log/alternatives.log "$root"/var/log/apt/*.log \
  "$root"/var/log/apt/eipp.log.xz "$root"/var/cache/ldconfig/aux-cache "$root"/var/lib/dbus/machine-id
rm -rf "$root"/run/* "$root"/tmp/* "$root"/var/tmp/*
# The build ran dpkg with force-unsafe-io (no fsync per file); the deployed system must not.
sed -i '/^force-unsafe-io$/d' "$root/etc/dpkg/dpkg.cfg.d/99mmdebstrap"
# systemd treats an empty machine-id as "first boot" and generates one per machine.
: >"$root/etc/machine-id"
# mmdebstrap's own apt settings are still in the tree (its cleanup removes them after this hook): set
# them aside while mke2fs copies the tree, then put them back for that cleanup.
view=$(mktemp -d)
aside=$(mktemp -d)
for f in etc/apt/apt.conf.d/00mmdebstrap etc/apt/apt.conf.d/99mmdebstrap; do
  if [ -e "$root/$f" ]; then mv "$root/$f" "$aside/"; fi
done
restore() {
  for f in "$aside"/*; do if [ -e "$f" ]; then mv "$f" "$root/etc/apt/apt.conf.d/"; fi; done
  rmdir "$view" "$aside"
}
trap restore EXIT
# mke2fs and the ctime fix-up run in a private mount namespace (mkfs-root.sh says why).
unshare --mount --propagation private "$(dirname "$0")/mkfs-root.sh" "$root" "$view"
