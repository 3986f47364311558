/**
 * An install root whose microkernel build is a stand-in that writes a tiny microkernel (with digests
 * in its manifest) where `--out` says: the microkernel entry's source choice and its use of the build
 * (arguments, agent bundle first, failures with the build's last lines) are tested in seconds; the
 * real build is exercised by test/e2e/field-ready.test.ts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { tmpDir } from '../support/appliance.ts';

/** Make a root; `multiArch` makes the build's usage mention `--arch`; `fail` makes it exit 1. */
export async function fakeBuildRoot(o: { multiArch: boolean; fail?: boolean }): Promise<string> {
  const root = await tmpDir('cc-fake-root-');
  await fs.mkdir(path.join(root, 'build', 'microkernel'), { recursive: true });
  await fs.writeFile(
    path.join(root, 'build', 'agent-bundle.mjs'),
    `import fs from 'node:fs'; import path from 'node:path';
const out = path.join(path.dirname(new URL(import.meta.url).pathname), 'out', 'agent');
fs.mkdirSync(out, { recursive: true }); fs.writeFileSync(path.join(out, 'crashcart-agent.mjs'), '// agent');
console.log('crashcart-agent bundle: written');\n`,
  );
  await fs.writeFile(
    path.join(root, 'build', 'microkernel', 'build.mjs'),
    `import fs from 'node:fs'; import path from 'node:path'; import { createHash } from 'node:crypto';
const a = process.argv.slice(2);
if (a.includes('--help')) { console.error('usage: build.mjs ${o.multiArch ? '[--arch amd64|arm64] ' : ''}[--out DIR] [--cache DIR]'); process.exit(2); }
const v = (k) => a[a.indexOf(k) + 1];
const arch = a.includes('--arch') ? v('--arch') : 'amd64';
fs.writeFileSync(path.join(v('--cache'), 'args.json'), JSON.stringify(a));
console.log('[microkernel    0.1s] resolving packages');
${o.fail ? "console.error('microkernel build failed: dpkg-deb is not installed'); console.error('  fix: apt-get install dpkg'); process.exit(1);" : ''}
const out = v('--out'); fs.mkdirSync(out, { recursive: true });
const k = Buffer.from('kernel ' + arch), i = Buffer.from('initrd ' + arch);
fs.writeFileSync(path.join(out, 'vmlinuz'), k); fs.writeFileSync(path.join(out, 'initrd.img'), i);
const h = (b) => createHash('sha256').update(b).digest('hex');
fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify({ version: 'fake-' + arch, files: { vmlinuz: { bytes: k.length, sha256: h(k) }, 'initrd.img': { bytes: i.length, sha256: h(i) } } }));
console.log('[microkernel    0.2s] done');\n`,
  );
  return root;
}
