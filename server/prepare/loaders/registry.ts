/**
 * The registry of first-stage loaders `crashcart prepare` fetches, each pinned to a Debian package
 * version, the sha256 of its .deb and the sha256 of every file taken from it. Provenance and licences:
 * resources/ipxe/PROVENANCE.md; which firmware gets which file: docs/boot.md.
 *
 * Updating a pin: Debian replaces shim-signed and grub-*-signed in point releases; when apt-get no
 * longer finds a pinned version, take the new one from `apt-cache show` in the private apt
 * configuration, and record the new .deb and file hashes here and in PROVENANCE.md (docs/boot.md).
 */
import type { DebPin, LoaderArtifact } from './artifact.ts';

/** Debian 12's iPXE (2019 snapshot). Arch `all`: it carries the x86 BIOS and x86_64 EFI builds only. */
const IPXE: DebPin = {
  package: 'ipxe',
  version: '1.0.0+git-20190125.36a4c85-5.1',
  arch: 'all',
  sha256: '49dc854857dcfb354292bdc79ce7419e0d72988666723395b2e102d147c3730d',
  bytes: 1171912,
};

/**
 * The wait of Debian's iPXE EFI builds at "Press Ctrl-B for the iPXE command line...": 2,048 ticks of 1/1024 s,
 * fixed at compile time (BANNER_TIMEOUT 20, tenths of a second), is the immediate of one instruction in each file
 * (`mov $0x800,%esi` before the call that prints the prompt and waits: the call's timeout argument). It was 2.1 s of
 * every UEFI boot. 307 ticks (0.3 s; the immediate the same source compiles to with BANNER_TIMEOUT 3) keep the shell
 * reachable: Ctrl-B held down or pressed repeatedly as iPXE starts is seen in that window
 * (test/loaders/firmware-smoke.test.ts sends it that way). Not 0, which iPXE reads as "wait forever".
 */
const IPXE_BANNER_PATCH = { from: 'be00080000', to: 'be33010000' } as const;

/**
 * The same wait in undionly.kpxe (x86 BIOS), `mov $0x800,%edx` there, inside the file's compressed payload: the
 * registry unpacks it, patches it and packs it again (ipxe-packed.ts; docs/boot.md, "The iPXE prompt"). Where the
 * build keeps its stream and sizes was read off this file: the stream's length field at 0x13d0, the image's size in
 * paragraphs at 0x3d4, 128,100 bytes unpacked; `unpackImage` checks each against the file before anything changes.
 */
const IPXE_BIOS_BANNER_PATCH = { from: 'ba00080000', to: 'ba33010000' } as const;
const UNDIONLY_LAYOUT = { lengthAt: 0x13d0, paragraphsAt: 0x3d4, payloadBytes: 128100 } as const;

/** shim 16.1 signed with Microsoft's UEFI CA 2011; it trusts Debian's Secure Boot CA. */
const SHIM_AMD64: DebPin = {
  package: 'shim-signed',
  version: '1.51~1+deb12u1+16.1-2~deb12u1',
  arch: 'amd64',
  sha256: 'c2acf5e559664bbadb7ce5789f9a321f39754a34854d3097b8cc0369df513b3b',
  bytes: 350384,
};

/** Debian-signed GRUB 2.06 for x86_64 EFI, including the network-boot image. */
const GRUB_AMD64: DebPin = {
  package: 'grub-efi-amd64-signed',
  version: '1+2.06+13+deb12u2',
  arch: 'amd64',
  sha256: 'fbe2b28166a6dca8111bbf6a30d52d4781973c3a0440d8080f901e039b1f83f2',
  bytes: 1253404,
};

/** The arm64 build of the same shim-signed source. */
const SHIM_ARM64: DebPin = {
  package: 'shim-signed',
  version: '1.51~1+deb12u1+16.1-2~deb12u1',
  arch: 'arm64',
  sha256: 'b0fba57ceea346d5c6deabe391ed24b9c5d72cc79572ae2cdcae376077cd8d00',
  bytes: 319732,
};

/** Debian-signed GRUB 2.06 for arm64 EFI, including the network-boot image. */
const GRUB_ARM64: DebPin = {
  package: 'grub-efi-arm64-signed',
  version: '1+2.06+13+deb12u2',
  arch: 'arm64',
  sha256: '0035392c773553c70bb22079146b0365ff8220419997837289cc1591c2233e8e',
  bytes: 1228148,
};

/** Every loader artifact, in the order `prepare` fetches them (the x86 ones a rack cannot do without first). */
export const LOADERS: readonly LoaderArtifact[] = Object.freeze([
  {
    name: 'ipxe-bios',
    arch: 'x86-bios',
    dhcpArch: [0],
    bootFile: 'undionly.kpxe',
    secureBoot: false,
    summary: 'iPXE for x86 BIOS PXE (UNDI driver of the NIC ROM)',
    packages: [IPXE],
    files: [
      {
        name: 'undionly.kpxe',
        package: 'ipxe',
        path: 'usr/lib/ipxe/undionly.kpxe',
        sha256: '18937b8b8caddc250055f05cf64e037f97815665a9215a46ff118c76843c78e5',
        bytes: 77203,
        fromPackage: { sha256: 'f09cfbe9bbd39c3f5eb9cdf7386b520a4f5858bbc4438960c5b870c7a8930a7f', bytes: 74213 },
        packed: {
          layout: UNDIONLY_LAYOUT,
          sha256: 'caa397f3c915d3b8c8f844a9d768b678c800eb4d16190e292f3c1ae61dfdc429',
          patches: [{ offset: 0x11653, ...IPXE_BIOS_BANNER_PATCH }],
        },
      },
    ],
  },
  {
    name: 'ipxe-efi-x64',
    arch: 'x86_64-efi',
    // 7 EFI x86-64, 9 what some x86-64 firmware (VMware) sends, 16 EFI x86-64 HTTP boot (RFC 4578, IANA registry).
    dhcpArch: [7, 9, 16],
    bootFile: 'snponly.efi',
    secureBoot: false,
    summary: 'iPXE for x86_64 UEFI (snponly.efi, the default: the firmware SNP driver; ipxe.efi: its own NIC drivers)',
    packages: [IPXE],
    files: [
      {
        name: 'ipxe.efi',
        package: 'ipxe',
        // A symlink to /boot/ipxe.efi in the package: resolved inside the unpacked tree, never on the host.
        path: 'usr/lib/ipxe/ipxe.efi',
        sha256: '552402e84aab12fed8db7305e40f3f08fe8f980393d5c51dfad5fd3184f8ac51',
        bytes: 850528,
        fromPackage: { sha256: '67c7f1f8e062968209ca055283ca782f21faf6a18f55dd19848601bbaf8ed7aa', bytes: 850528 },
        patches: [{ offset: 0x78e74, ...IPXE_BANNER_PATCH }],
      },
      {
        name: 'snponly.efi',
        package: 'ipxe',
        path: 'usr/lib/ipxe/snponly.efi',
        sha256: '1a774f3db8ed6a96a0b540bf9167d9635c6936ba032fb9ee8cb20a71b4828e5c',
        bytes: 173792,
        fromPackage: { sha256: '18fc84b69172b9f7d1e6b5274c81121dde429fdacfdc984747f687cfb4f8090b', bytes: 173792 },
        patches: [{ offset: 0x16fa8, ...IPXE_BANNER_PATCH }],
      },
    ],
  },
  {
    name: 'shim-grub-x64',
    arch: 'x86_64-efi',
    dhcpArch: [7, 9, 16],
    bootFile: 'shimx64.efi',
    secureBoot: true,
    summary: 'Secure Boot chain for x86_64 UEFI: shim (Microsoft UEFI CA) -> network GRUB (Debian)',
    packages: [SHIM_AMD64, GRUB_AMD64],
    files: [
      {
        name: 'shimx64.efi',
        package: 'shim-signed',
        path: 'usr/lib/shim/shimx64.efi.signed',
        sha256: '0fc347af103ec1dfac6e3f184c0a5241a2ce756a0932b359c404d39c45423806',
        bytes: 1048504,
      },
      {
        // shim loads `grubx64.efi` from the directory it was loaded from.
        name: 'grubx64.efi',
        package: 'grub-efi-amd64-signed',
        path: 'usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed',
        sha256: 'a376f239f40fc54aa63e343f3d2ab254c4a1ebcaec1a3fe5de0497aa640362d9',
        bytes: 3843520,
      },
    ],
  },
  {
    name: 'shim-grub-arm64',
    arch: 'arm64-efi',
    // 11 EFI ARM64, 19 EFI ARM64 HTTP boot.
    dhcpArch: [11, 19],
    bootFile: 'shimaa64.efi',
    secureBoot: true,
    summary: 'arm64 UEFI, Secure Boot on or off: shim (Microsoft UEFI CA) -> network GRUB (Debian)',
    packages: [SHIM_ARM64, GRUB_ARM64],
    files: [
      {
        name: 'shimaa64.efi',
        package: 'shim-signed',
        path: 'usr/lib/shim/shimaa64.efi.signed',
        sha256: 'dcf4cefd10c09851ac477bbcfb4a1fa06b2aa590fed2caeeb34fe526126e2621',
        bytes: 1072064,
      },
      {
        // shim loads `grubaa64.efi` from the directory it was loaded from.
        name: 'grubaa64.efi',
        package: 'grub-efi-arm64-signed',
        path: 'usr/lib/grub/arm64-efi-signed/grubnetaa64.efi.signed',
        sha256: '96f37e8af4763f24b0e490511b0c3b2faca575f14f6e6e979f543367dad0c291',
        bytes: 3966400,
      },
    ],
  },
] satisfies LoaderArtifact[]);

/** The artifacts that answer DHCP client architecture `arch` (option 93), Secure Boot chains last. */
export function loadersForDhcpArch(arch: number): LoaderArtifact[] {
  return LOADERS.filter((a) => a.dhcpArch.includes(arch)).sort((a, b) => Number(a.secureBoot) - Number(b.secureBoot));
}

/** Look an artifact up by name (undefined when the registry has none). */
export function loaderByName(name: string): LoaderArtifact | undefined {
  return LOADERS.find((a) => a.name === name);
}
