#!/bin/sh
# mmdebstrap --customize-hook, last: does mmdebstrap's cleanup itself (it runs after the hooks) and
# packs the tree "$1" into an ext4 image with `mke2fs -d` (no loop device, no partition mounted). In unshare mode
# this runs inside the user namespace, so files keep uid 0 without real root.
# Environment: CC_ROOT_UUID, CC_OUT, CC_ROOT_SLACK_MB (free space left in the filesystem), SOURCE_DATE_EPOCH.
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
# mmdebstrap keeps /proc, /sys and /dev mounted inside the tree while hooks run; a plain (non-recursive)
# bind mount in a private mount namespace shows the tree without them, for both steps below.
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
unshare --mount --propagation private sh -eu -c '
  root="$1" view="$2"
  mount --bind "$root" "$view"
  # Reproducible builds: no file newer than SOURCE_DATE_EPOCH (postinst scripts stamp the build time).
  find "$view" -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0r touch --no-dereference --date="@$SOURCE_DATE_EPOCH"
  used_kb=$(du -s --block-size=1K "$view" | cut -f1)
  # ext4 metadata (inode tables, the 64 MiB journal) is about 8% of a small filesystem; then the slack.
  size_mb=$(( (used_kb * 108 / 100) / 1024 + 64 + CC_ROOT_SLACK_MB ))
  size_mb=$(( (size_mb + 3) / 4 * 4 ))
  rm -f "$CC_OUT/root.ext4"
  E2FSPROGS_FAKE_TIME="$SOURCE_DATE_EPOCH" mke2fs -q -F -t ext4 -L root -U "$CC_ROOT_UUID" \
    -E "hash_seed=$CC_ROOT_UUID,root_owner=0:0" -J size=64 -d "$view" "$CC_OUT/root.ext4" "${size_mb}M"
  umount "$view"
' sh "$root" "$view"
