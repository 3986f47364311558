/**
 * What a first-stage loader artifact is: the files a rack's firmware fetches first, where each comes
 * from (a pinned Debian package), and the pins that prove we got exactly that. The table of artifacts
 * is `registry.ts`; `prepare-loaders.ts` fetches them into a target directory.
 */
import type { BytePatch } from './byte-patch.ts';
import type { PackedLayout } from './ipxe-packed.ts';

/** Firmware family a loader serves; DHCP option 93 (RFC 4578 2.1) values are in `dhcpArch`. */
export type LoaderArch = 'x86-bios' | 'x86_64-efi' | 'arm64-efi';

/** A Debian binary package pinned by version and by the sha256 of its .deb. */
export interface DebPin {
  /** Binary package name, e.g. `shim-signed`. */
  readonly package: string;
  /** Exact Debian version; apt-get downloads `package:arch=version`. */
  readonly version: string;
  /** Debian architecture of the .deb (`all` for arch-independent packages like `ipxe`). */
  readonly arch: 'all' | 'amd64' | 'arm64';
  /** sha256 of the .deb file: the trust anchor, checked before anything is unpacked. */
  readonly sha256: string;
  /** Size of the .deb in bytes (progress totals; a mismatch is reported like a hash mismatch). */
  readonly bytes: number;
}

/** One file an artifact installs into the target directory. */
export interface LoaderFile {
  /** Name in the target directory (the name firmware or shim asks TFTP/HTTP for). */
  readonly name: string;
  /** The package it comes from (`DebPin.package`). */
  readonly package: string;
  /** Path inside the unpacked package; symlinks are resolved inside that tree (issue 12). */
  readonly path: string;
  /** sha256 of the file's bytes as installed (and served). */
  readonly sha256: string;
  /** Size in bytes. */
  readonly bytes: number;
  /** A patched file: the pin of the package's file, checked before `patches` are applied (byte-patch.ts). */
  readonly fromPackage?: { readonly sha256: string; readonly bytes: number };
  /** Changes made to the package's file before it is installed; `sha256` pins the result. */
  readonly patches?: readonly BytePatch[];
  /**
   * Changes made inside a packed image's compressed payload (ipxe-packed.ts): unpacked, checked against `sha256`,
   * patched, packed again with Crashcart's own encoder (deterministic, so `LoaderFile.sha256` pins the result).
   */
  readonly packed?: PackedPatch;
}

/** A patch of a packed image's payload. */
export interface PackedPatch {
  readonly layout: PackedLayout;
  /** sha256 of the payload as the package packed it. */
  readonly sha256: string;
  /** Offsets are in the payload. */
  readonly patches: readonly BytePatch[];
}

/** A first-stage loader artifact: one entry of the registry. */
export interface LoaderArtifact {
  /** Stable id, e.g. `ipxe-efi-x64`. */
  readonly name: string;
  /** The firmware family it boots. */
  readonly arch: LoaderArch;
  /** DHCP option 93 client architectures this artifact answers (RFC 4578 2.1, PXE-NOTES). */
  readonly dhcpArch: readonly number[];
  /** The file DHCP names as the boot file for this artifact (one of `files`). */
  readonly bootFile: string;
  /** True when every stage is signed for UEFI Secure Boot (Microsoft UEFI CA -> Debian). */
  readonly secureBoot: boolean;
  /** One line for `doctor`, docs and progress output. */
  readonly summary: string;
  /** How to obtain it: the pinned Debian packages (downloaded through a private apt configuration). */
  readonly packages: readonly DebPin[];
  /** Files installed into the target directory. */
  readonly files: readonly LoaderFile[];
}

/** Steps a progress callback hears about, in order (a skipped artifact reports only `present`). */
export type LoaderStep = 'present' | 'apt-update' | 'download' | 'unpack' | 'install' | 'done';

/** One progress report: which artifact, which step, and bytes where they are known. */
export interface LoaderProgress {
  /** Artifact name, or `*` for steps shared by all (the apt list update). */
  readonly artifact: string;
  readonly step: LoaderStep;
  /** Human-readable line (package or file name). */
  readonly message: string;
  /** Bytes handled so far in this step, and the total, when meaningful. */
  readonly done?: number;
  readonly total?: number;
}

/** What happened to one artifact in a run. */
export interface LoaderOutcome {
  readonly name: string;
  readonly arch: LoaderArch;
  /** `present`: all files were already there and verified; `installed`: (re)fetched this run. */
  readonly status: 'present' | 'installed';
  /** Files that were missing or did not match their pin before this run (empty when present). */
  readonly repaired: readonly string[];
}
