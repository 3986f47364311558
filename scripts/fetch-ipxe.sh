#!/bin/sh
# Fetch every first-stage loader of the registry (server/prepare/loaders/registry.ts: iPXE for x86 BIOS
# and UEFI, the signed shim + GRUB chains for x86_64 and arm64) into resources/ipxe/, each pinned by the
# sha256 of its Debian package and of every file. Idempotent: verified files are left alone.
# Kept for the callers that know this name; the work is done by build/loaders/fetch-loaders.ts
# (options: --target DIR --cache DIR --only NAME,... --mirror URL). Needs no `ipxe` package on the host.
set -eu
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
exec node "$ROOT/bin/run-ts.mjs" "$ROOT/build/loaders/fetch-loaders.ts" "$@"
