#!/usr/bin/env bash
# Installs what the test suite needs, idempotently and quickly when all is there:
#  - Debian packages listed in scripts/deps/*.txt (apt-get, as root),
#  - npm modules (npm ci when node_modules is missing or older than the lock file),
#  - the first-stage loaders of every architecture (scripts/fetch-ipxe.sh -> build/loaders/fetch-loaders.ts,
#    from pinned Debian packages; no `ipxe` package needed), the UI bundle, the microkernel image,
#  - the debian12 disk image (build/out/images/debian12; rebuilt only when its recipe changes).
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(cat scripts/deps/*.txt 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$' | sort -u || true)
missing=()
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "crashcart: the tests need these Debian packages: ${missing[*]}" >&2
    echo "  fix: run the test command as root (sudo npm test), or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "== installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== installing npm modules (npm ci)"
  npm ci --no-audit --no-fund
fi

echo "== the addons: the node plane's sendfile(2), the TFTP pump (build/out/native)"
node build/native.mjs
if [ -f build/loaders/fetch-loaders.ts ]; then
  echo "== first-stage loaders (resources/ipxe)"
  node bin/run-ts.mjs build/loaders/fetch-loaders.ts
  # test/loaders/registry-fetch.test.ts replays this cache's Debian indexes and pinned .debs from a loopback mirror:
  # when a piece is missing (loaders present, cache pruned), fill it again with one fetch into a scratch folder.
  if ! node bin/run-ts.mjs test/support/loader-cache-check-main.ts; then
    echo "== refilling the loader cache (build/out/cache/loaders)"
    rm -rf build/out/cache/loaders
    scratch=$(mktemp -d)
    node bin/run-ts.mjs build/loaders/fetch-loaders.ts --target "$scratch"
    rm -rf "$scratch"
  fi
fi
if [ -f renderer/vite.config.ts ] && [ ! -f renderer/dist/index.html ]; then
  echo "== building the UI"
  npm run --silent build:ui
fi
if [ -f build/agent-bundle.mjs ] && { [ ! -f build/out/agent/crashcart-agent.mjs ] || [ ! -f build/out/agent/crashcart-agent.cjs ]; }; then
  echo "== bundling the agent"
  node build/agent-bundle.mjs
fi
# Both microkernels, each built once and then reused (build/out/microkernel, build/out/microkernel-arm64).
if [ -f build/microkernel/build.mjs ] && [ ! -f build/out/microkernel/initrd.img ]; then
  echo "== building the amd64 microkernel (first run only; later runs use build/out/microkernel)"
  npm run --silent build:microkernel
fi
if [ -f build/microkernel/build.mjs ] && [ ! -f build/out/microkernel-arm64/initrd.img ]; then
  echo "== building the arm64 microkernel (first run only; later runs use build/out/microkernel-arm64)"
  npm run --silent build:microkernel -- --arch arm64
fi
if [ -f server/images/build/image-builder.ts ]; then
  # Reuses build/out/images/debian12 when its recipe key matches (a few seconds); builds it otherwise.
  echo "== debian12 disk image (build/out/images/debian12)"
  flock /tmp/cc-build.lock node bin/crashcart.mjs image build debian12 \
    --output build/out/images/debian12 --cache build/out/cache/disk-image --no-import
fi
if [ -f build/package-deb.mjs ]; then
  # test/package: the Node runtime the .deb carries (cached by the amd64 microkernel build; fetched if pruned) and
  # the clean Debian 12 root it is installed into (mmdebstrap, once per recipe: build/out/cache/deb-install-root).
  echo "== the package tests' Node runtime and clean Debian 12 root"
  node --input-type=module -e "await (await import('./build/pinned-node.mjs')).pinnedNodeTarball()"
  node bin/run-ts.mjs test/support/clean-debian-root-main.ts
fi
