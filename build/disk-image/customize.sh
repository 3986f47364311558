#!/bin/sh
# mmdebstrap --customize-hook for `crashcart image build debian12`: turns the installed tree "$1" into
# a bootable, first-boot-ready system. Runs as (namespace) root, before mmdebstrap's own cleanup.
# Environment from the builder (server/images/build/): CC_ROOT_UUID (ext4 UUID), CC_ESP_UUID (vfat
# volume id XXXX-XXXX), CC_OUT (a directory outside the tree for the boot loader images).
set -eu
root="$1"
: "${CC_ROOT_UUID:?}" "${CC_ESP_UUID:?}" "${CC_OUT:?}"

# Filesystems by UUID: the disk's name on the target machine (sda, nvme0n1, vda) is unknown here.
cat >"$root/etc/fstab" <<FSTAB
UUID=$CC_ROOT_UUID / ext4 rw,discard,errors=remount-ro 0 1
UUID=$CC_ESP_UUID /boot/efi vfat umask=0077,nofail 0 2
FSTAB
mkdir -p "$root/boot/efi"

# Host identity must not leak into the image: cloud-init sets the hostname from the seed.
echo localhost >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
: >"$root/etc/resolv.conf"

# Every deployed machine must get its own SSH host keys: remove the ones openssh-server's postinst
# made; cloud-init (cc_ssh) generates new ones on first boot (the types the seed asks for), and
# ssh-keygen -A covers a boot where cloud-init made none.
rm -f "$root"/etc/ssh/ssh_host_*
mkdir -p "$root/etc/systemd/system/ssh.service.d"
cat >"$root/etc/systemd/system/ssh.service.d/10-crashcart-hostkeys.conf" <<'UNIT'
[Service]
ExecStartPre=
ExecStartPre=/bin/sh -c 'ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1 || exec /usr/bin/ssh-keygen -A'
ExecStartPre=/usr/sbin/sshd -t
UNIT

# cloud-init: NoCloud only (a bare-metal machine has no cloud metadata service to wait for), then the
# None fallback so the first boot still runs (host keys, growpart) without a seed.
cat >"$root/etc/cloud/cloud.cfg.d/90-crashcart.cfg" <<CFG
# Written by crashcart image build: the seed comes from a NoCloud source (a CIDATA filesystem or the
# kernel command line); without one cloud-init still runs with the None datasource.
datasource_list: [ NoCloud, None ]
CFG

# A DHCP-configured loopback-only base: cloud-init writes /etc/network/interfaces.d/50-cloud-init for
# the NIC it finds (or the one the seed's network-config names).
printf 'auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n' >"$root/etc/network/interfaces"

# GRUB for both firmware types from the image's own grub-pc-bin and grub-efi-amd64-bin. Modules live
# in /boot/grub/<platform>/ as grub-install would put them; the core images find the root filesystem
# by UUID, so the disk may be any disk of the machine.
for p in i386-pc x86_64-efi; do
  mkdir -p "$root/boot/grub/$p"
  cp "$root/usr/lib/grub/$p/"*.mod "$root/usr/lib/grub/$p/"*.lst "$root/boot/grub/$p/"
done
cat >"$root/boot/grub/early.cfg" <<EARLY
search.fs_uuid $CC_ROOT_UUID root
set prefix=(\$root)/boot/grub
EARLY
cat >"$root/boot/grub/grub.cfg" <<GRUB
# Written by crashcart image build. /vmlinuz and /initrd.img follow kernel upgrades (linux-update-symlinks).
set default=0
set timeout=2
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
insmod all_video
set gfxpayload=keep
menuentry 'Debian GNU/Linux 12' {
  search.fs_uuid $CC_ROOT_UUID root
  linux /vmlinuz root=UUID=$CC_ROOT_UUID ro console=tty0 console=ttyS0,115200n8
  initrd /initrd.img
}
GRUB
# Core images: BIOS (written into the BIOS boot partition) and UEFI (the removable-media fallback
# path EFI/BOOT/BOOTX64.EFI, UEFI 2.10 section 3.5.1.1).
chroot "$root" grub-mkimage -O i386-pc -o /boot/grub/core.img -c /boot/grub/early.cfg -p /boot/grub \
  biosdisk part_gpt part_msdos ext2 search_fs_uuid
chroot "$root" grub-mkimage -O x86_64-efi -o /boot/grub/BOOTX64.EFI -c /boot/grub/early.cfg -p /boot/grub \
  part_gpt part_msdos ext2 search_fs_uuid
mv "$root/boot/grub/core.img" "$root/boot/grub/BOOTX64.EFI" "$CC_OUT/"
cp "$root/usr/lib/grub/i386-pc/boot.img" "$CC_OUT/boot.img"
rm "$root/boot/grub/early.cfg"
rm -f "$root/vmlinuz.old" "$root/initrd.img.old"
# The package list, for the build manifest.
chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' >"$CC_OUT/packages.txt"
