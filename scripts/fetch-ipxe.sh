#!/bin/sh
# Fetch the first-stage iPXE loaders from Debian's `ipxe` package into resources/ipxe/.
# Idempotent: when the three files are present with the expected sha256 it exits at once.
# Provenance and hashes: resources/ipxe/PROVENANCE.md. Needs apt-get (Debian/Ubuntu) and dpkg-deb.
set -eu

VERSION='1.0.0+git-20190125.36a4c85-5.1'
DEB_SHA256='49dc854857dcfb354292bdc79ce7419e0d72988666723395b2e102d147c3730d'
# file sha256 pairs, as unpacked from that .deb (usr/lib/ipxe/)
FILES='undionly.kpxe f09cfbe9bbd39c3f5eb9cdf7386b520a4f5858bbc4438960c5b870c7a8930a7f
ipxe.efi 67c7f1f8e062968209ca055283ca782f21faf6a18f55dd19848601bbaf8ed7aa
snponly.efi 18fc84b69172b9f7d1e6b5274c81121dde429fdacfdc984747f687cfb4f8090b'

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
DEST="$ROOT/resources/ipxe"
CACHE="$DEST/.cache"

all_present() {
  echo "$FILES" | while read -r name sum; do
    [ -f "$DEST/$name" ] || exit 1
    echo "$sum  $DEST/$name" | sha256sum -c --status - || exit 1
  done
}

if all_present; then
  echo "fetch-ipxe: loaders present and verified in $DEST"
  exit 0
fi

mkdir -p "$CACHE"
DEB="$CACHE/ipxe_${VERSION}_all.deb"
if [ ! -f "$DEB" ] || ! echo "$DEB_SHA256  $DEB" | sha256sum -c --status -; then
  rm -f "$DEB"
  # apt-get download writes into the current directory; `_apt` may not be able to, which is only a warning.
  (cd "$CACHE" && apt-get download "ipxe=$VERSION") || {
    echo "fetch-ipxe: apt-get download ipxe=$VERSION failed." >&2
    echo "  fix: run 'apt-get update' (Debian bookworm/trixie sources must be reachable), or copy the .deb to $DEB" >&2
    exit 1
  }
fi
if ! echo "$DEB_SHA256  $DEB" | sha256sum -c --status -; then
  echo "fetch-ipxe: $DEB does not have the expected sha256 $DEB_SHA256." >&2
  echo "  fix: delete it and run again; if Debian published a new ipxe, update VERSION and the hashes here and in PROVENANCE.md" >&2
  exit 1
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
dpkg-deb -x "$DEB" "$TMP"
echo "$FILES" | while read -r name sum; do
  cp "$TMP/usr/lib/ipxe/$name" "$DEST/$name.tmp"
  if ! echo "$sum  $DEST/$name.tmp" | sha256sum -c --status -; then
    rm -f "$DEST/$name.tmp"
    echo "fetch-ipxe: $name from the package does not match its recorded sha256" >&2
    exit 1
  fi
  mv "$DEST/$name.tmp" "$DEST/$name"
done
echo "fetch-ipxe: installed undionly.kpxe ipxe.efi snponly.efi (Debian ipxe $VERSION) into $DEST"
echo "fetch-ipxe: note: Debian ships no arm64 iPXE; ipxe-arm64.efi must be built (docs/dhcp.md)"
