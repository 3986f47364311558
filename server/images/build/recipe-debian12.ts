/**
 * The `debian12` recipe: what goes into the image `crashcart image build debian12` makes. Debian 12
 * (bookworm) amd64 from Debian packages only, booting with BIOS and UEFI, configured on first boot
 * by cloud-init's NoCloud datasource. Bump RECIPE_VERSION whenever the output would change, so a
 * cached build is not reused.
 */

/** Changes whenever the recipe changes the image (cache key). */
export const RECIPE_VERSION = 3;
/** Debian suite. */
export const SUITE = 'bookworm';
/** Default mirrors (`--mirror`, `--security-mirror` replace them, e.g. with a local mirror or snapshot). */
export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
/** Security updates: the kernel and OpenSSH a deployed machine boots with should be current. */
export const DEFAULT_SECURITY_MIRROR = 'http://deb.debian.org/debian-security';
/**
 * Fixed build time (2024-01-01T00:00:00Z) unless `--epoch` says otherwise: file times, filesystem
 * times and UUID seeds come from it, so two builds from the same package versions agree.
 */
export const DEFAULT_SOURCE_DATE_EPOCH = 1704067200;

/** Packages on top of mmdebstrap's minbase variant, and why each. */
export const PACKAGES: Record<string, string> = {
  'linux-image-amd64': 'the kernel, with drivers for real hardware (not the cloud flavour)',
  'systemd-sysv': 'init',
  udev: 'device discovery',
  dbus: 'hostnamectl (cloud-init sets the hostname through it)',
  kmod: 'module loading',
  'initramfs-tools': 'the initrd (generic: MODULES=most)',
  zstd: 'initramfs compression',
  'grub-pc-bin': 'GRUB for BIOS (modules in /boot/grub/i386-pc)',
  'grub-efi-amd64-bin': 'GRUB for UEFI (modules in /boot/grub/x86_64-efi)',
  'cloud-init': 'first-boot configuration from a NoCloud seed',
  'cloud-guest-utils': 'growpart: the root partition grows to the disk on first boot',
  'openssh-server': 'remote login with the key from the seed',
  ifupdown: 'network configuration cloud-init renders (/etc/network/interfaces.d)',
  'isc-dhcp-client': 'DHCP for that configuration',
  iproute2: 'ip, used by cloud-init',
  netbase: '/etc/services and protocols',
  sudo: "cloud-init's default user may sudo",
  e2fsprogs: 'resize2fs after growpart',
  'ca-certificates': 'TLS for apt and phone-home callbacks',
};

/**
 * dpkg path excludes (kept in the image as /etc/dpkg/dpkg.cfg.d/99mmdebstrap, so later installs agree):
 * documentation, manuals and translations; and kernel modules for hardware a server rack does not
 * have (sound, cameras/TV, Wi-Fi, Bluetooth, industrial I/O, staging drivers). About 160 MB of 400.
 * `--all-modules` keeps every module.
 */
export const DOC_EXCLUDES = ['/usr/share/man/*', '/usr/share/locale/*', '/usr/share/doc/*', '/usr/share/info/*'];
/** Paths put back after DOC_EXCLUDES (licences stay). */
export const DOC_INCLUDES = ['/usr/share/doc/*/copyright'];
/** Module trees left out unless `--all-modules`. */
export const MODULE_EXCLUDES = [
  'sound',
  'drivers/media',
  'drivers/net/wireless',
  'net/wireless',
  'net/mac80211',
  'net/bluetooth',
  'drivers/bluetooth',
  'drivers/iio',
  'drivers/staging',
  'drivers/comedi',
  // bookworm's kernel packages ship /lib/modules (merged /usr makes it /usr/lib/modules on disk); dpkg
  // matches the package's own paths, so both spellings are listed.
].flatMap((d) => [`/lib/modules/*/kernel/${d}/*`, `/usr/lib/modules/*/kernel/${d}/*`]);

/** Disk layout (MiB): GPT head, BIOS boot partition, ESP, then the root filesystem, then 1 MiB for the backup GPT. */
export const LAYOUT = {
  /** Partitions start on 1 MiB boundaries (fdisk's default; good for 4K and RAID stripes). */
  alignMiB: 1,
  biosBootMiB: 1,
  /** FAT32 needs at least 65,525 clusters: 64 MiB of 512-byte clusters is twice that. */
  espMiB: 64,
  /** Free space left in the root filesystem (growpart adds the rest of the disk on first boot). */
  rootSlackMiB: 256,
};
