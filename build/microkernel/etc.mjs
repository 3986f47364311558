// The image's /etc and the Crashcart scripts in it: users (root, and `tcpdump`, which Debian's tcpdump
// switches to after opening the interface), name service, hostname, os-release, and the rootfs scripts.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The rootfs scripts: source file in build/microkernel/rootfs -> path in the image. */
const SCRIPTS = [
  ['init', 'init'],
  ['fill-holes', 'usr/share/crashcart/fill-holes'],
  ['load-drivers', 'usr/share/crashcart/load-drivers'],
  ['udhcpc.script', 'usr/share/crashcart/udhcpc.script'],
  ['supervise-agent', 'usr/share/crashcart/supervise-agent'],
  ['lldp-capture', 'usr/share/crashcart/lldp-capture'],
];

/** Add /etc, the boot scripts and (debug images only) the SSH key and debug.sh to the tree. */
export function addEtc(tree, { rootfs, bootModules, settleModules, debug, sshKey }) {
  for (const [src, dest] of SCRIPTS) tree.file(dest, readFileSync(path.join(rootfs, src)), 0o755, 'init');
  const etc = (p, text, mode = 0o644) => tree.file(`etc/${p}`, Buffer.from(text), mode, 'init');
  etc('crashcart/boot-modules', bootModules.join('\n') + '\n');
  etc('crashcart/settle-modules', settleModules.join('\n') + '\n');
  etc(
    'passwd',
    'root:x:0:0:root:/root:/bin/sh\ntcpdump:x:100:101:tcpdump:/nonexistent:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  etc('group', 'root:x:0:\ntcpdump:x:101:\nnogroup:x:65534:\n');
  // Production: root has no password hash at all ('*' = no login). Debug: empty password on the console.
  etc('shadow', `root:${debug ? '' : '*'}:19000:0:99999:7:::\ntcpdump:*:19000:0:99999:7:::\n`, 0o600);
  etc('nsswitch.conf', 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n');
  etc('hosts', '127.0.0.1 localhost crashcart-mk\n');
  etc(
    'os-release',
    'NAME="Crashcart microkernel"\nID=crashcart-mk\nVERSION_ID="1"\nPRETTY_NAME="Crashcart microkernel (Debian 12 packages)"\n',
  );
  if (debug) {
    tree.file('usr/share/crashcart/debug.sh', readFileSync(path.join(rootfs, 'debug.sh')), 0o755, 'init');
    tree.file('root/.ssh/authorized_keys', readFileSync(sshKey), 0o600, 'init');
  }
}
