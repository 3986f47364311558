#!/bin/sh
# Run by pack-rootfs.sh in a private mount namespace: mkfs-root.sh TREE VIEW. Shows TREE at VIEW through
# a plain (non-recursive) bind mount, so the /proc, /sys and /dev mounts mmdebstrap keeps inside the tree
# are not copied, then packs VIEW into $CC_OUT/root.ext4.
set -eu
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
# mke2fs -d copies each file's ctime (when the build last touched it; nothing can set a ctime on the
# tree) and atime (when the build last read it): set both to SOURCE_DATE_EPOCH in the new filesystem,
# in one debugfs run. Paths with a quote or backslash (none in Debian's base system) keep theirs.
(cd "$view" && find . -xdev -printf '/%P\n') | grep -v '["\\]' |
  awk -v t="$SOURCE_DATE_EPOCH" '{ printf "sif \"%s\" ctime @%s\nsif \"%s\" atime @%s\n", $0, t, $0, t }' >"$CC_OUT/ctime.cmds"
E2FSPROGS_FAKE_TIME="$SOURCE_DATE_EPOCH" debugfs -w -f "$CC_OUT/ctime.cmds" "$CC_OUT/root.ext4" >/dev/null 2>"$CC_OUT/ctime.log"
rm "$CC_OUT/ctime.cmds"
umount "$view"
