#!/usr/bin/env node
// Bundles the discovery agent into one ESM file for the microkernel (Node runtime + this file):
//   node build/agent-bundle.mjs  ->  build/out/agent/crashcart-agent.mjs (and .cjs, the microkernel's), prints its size.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { statSync, chmodSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'build', 'out', 'agent', 'crashcart-agent.mjs');
const minify = !process.argv.includes('--no-minify');

/** Sources the agent is built from, in a stable order: their digest tells two builds of one release apart. */
function sources(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}
const digest = createHash('sha256');
for (const f of [...sources(path.join(root, 'agent')), ...sources(path.join(root, 'contract'))]) {
  digest.update(path.relative(root, f));
  digest.update(readFileSync(f));
}
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
/** What the agent reports as agent_version (agent/version.ts). */
const agentVersion = `${pkg.version}+${digest.digest('hex').slice(0, 12)}`;

const common = {
  entryPoints: [path.join(root, 'agent', 'main.ts')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  minify,
  sourcemap: false,
  legalComments: 'none',
  define: { __CRASHCART_AGENT_VERSION__: JSON.stringify(agentVersion) },
  logLevel: 'warning',
};
const result = await build({ ...common, outfile, format: 'esm', metafile: true, banner: { js: '#!/usr/bin/env node' } });
chmodSync(outfile, 0o755);
// The same agent as one CommonJS file: what the microkernel runs, through its loader with a V8 code cache
// (build/microkernel/rootfs/agent-loader.cjs; vm.Script takes a cache, an ES module does not on Node 20).
const cjsfile = outfile.replace(/\.mjs$/, '.cjs');
// vm.Script offers no import(): dynamic imports (the built-ins loaded only when used) become require() here.
await build({ ...common, outfile: cjsfile, format: 'cjs', supported: { 'dynamic-import': false } });

const bytes = statSync(outfile).size;
const gz = gzipSync(readFileSync(outfile)).length;
const inputs = Object.entries(result.metafile.inputs)
  .map(([file, v]) => [file.split('node_modules/')[1]?.split('/')[0] ?? file.split('/')[0], v.bytes])
  .reduce((m, [k, b]) => m.set(k, (m.get(k) ?? 0) + b), new Map());
console.log(
  `crashcart-agent ${agentVersion} bundle: ${path.relative(root, outfile)} ${(bytes / 1024).toFixed(1)} KiB (${(gz / 1024).toFixed(1)} KiB gzipped)${minify ? '' : ', not minified'}`,
);
console.log(
  `  inputs by top folder/package: ${[...inputs]
    .sort((a, b) => b[1] - a[1])
    .map(([k, b]) => `${k} ${(b / 1024).toFixed(0)} KiB`)
    .join(', ')}`,
);
