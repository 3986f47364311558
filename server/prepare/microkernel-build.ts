/**
 * The microkernel entry's way of building: the repository's own build (`build/microkernel/build.mjs`,
 * Debian packages only, no root), run as a child with its output going to a folder of the prepare
 * cache. A package carries no build scripts; it ships a microkernel instead (layout.ts). arm64 is
 * offered when the build script takes `--arch` (the reshaped build, `npm run build:microkernel --
 * --arch arm64`); the check reads its usage text, so no code here changes when that lands.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ccError } from '../errors/cc-error.ts';
import type { MicrokernelArch } from './layout.ts';

/** What this install can build. */
export interface BuildSupport {
  /** Architectures the build script can make here. */
  arches: MicrokernelArch[];
  /** Why an architecture cannot be built (for the summary and the error). */
  why: Partial<Record<MicrokernelArch, string>>;
}

/** The build script and the agent bundle it puts into the image. */
const script = (root: string) => path.join(root, 'build', 'microkernel', 'build.mjs');
const agentBundler = (root: string) => path.join(root, 'build', 'agent-bundle.mjs');
const agentBundle = (root: string) => path.join(root, 'build', 'out', 'agent', 'crashcart-agent.mjs');
/** The CommonJS build of the same agent, which the microkernel runs (docs/microkernel.md, "The agent's code cache"). */
const agentBundleCjs = (root: string) => agentBundle(root).replace(/\.mjs$/, '.cjs');

/** Which architectures `root`'s build can make (reads the script's usage; no build runs). */
export function buildSupport(root: string): BuildSupport {
  if (!fs.existsSync(script(root))) {
    const why = 'this installation has no microkernel build (a package ships its microkernel instead)';
    return { arches: [], why: { amd64: why, arm64: why } };
  }
  const usage = spawnSync(process.execPath, [script(root), '--help'], { encoding: 'utf8', timeout: 30_000 });
  const multiArch = /--arch\b/.test(`${usage.stdout}${usage.stderr}`);
  // The single-architecture build puts this machine's own node binary into the image: x86-64 only.
  const hostAmd64 = process.arch === 'x64';
  const arches: MicrokernelArch[] = [];
  const why: BuildSupport['why'] = {};
  if (multiArch || hostAmd64) arches.push('amd64');
  else why.amd64 = 'this build copies the host node binary into the image, and this host is not x86-64';
  if (multiArch) arches.push('arm64');
  else
    why.arm64 =
      'this version of the microkernel build makes amd64 only (`npm run build:microkernel -- --arch arm64` comes with the reshaped build)';
  return { arches, why };
}

/** How to run one build. */
export interface MicrokernelBuildRun {
  root: string;
  arch: MicrokernelArch;
  /** Where vmlinuz, initrd.img and manifest.json are written. */
  outDir: string;
  /** The build's apt cache (lists, .debs, unpacked trees): reusing a warm one skips every download. */
  cacheDir: string;
  mirror?: string;
  securityMirror?: string;
  /** Each output line of the bundler and the build, as it comes. */
  onLine: (line: string) => void;
}

/** Run a child and hand its lines over; resolves with its exit code and the last lines. */
function runChild(cmd: string, args: string[], cwd: string, onLine: (l: string) => void): Promise<{ code: number; tail: string[] }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const tail: string[] = [];
    const take = (l: string) => {
      tail.push(l);
      if (tail.length > 12) tail.shift();
      onLine(l);
    };
    createInterface({ input: child.stdout! }).on('line', take);
    createInterface({ input: child.stderr! }).on('line', take);
    child.once('error', (e) => {
      take(`cannot run ${cmd}: ${e.message}`);
      resolve({ code: -1, tail });
    });
    child.once('close', (code) => resolve({ code: code ?? -1, tail }));
  });
}

/** Bundle the agent if needed, then build the microkernel into `o.outDir`. */
export async function runMicrokernelBuild(o: MicrokernelBuildRun): Promise<void> {
  if (!fs.existsSync(agentBundle(o.root)) || !fs.existsSync(agentBundleCjs(o.root))) {
    o.onLine('bundling the agent (node build/agent-bundle.mjs)');
    const b = await runChild(process.execPath, [agentBundler(o.root)], o.root, o.onLine);
    if (b.code !== 0) throw ccError('CC_ERR_MICROKERNEL_BUILD', `agent bundle: ${b.tail.slice(-3).join(' | ')}`);
  }
  fs.mkdirSync(o.outDir, { recursive: true });
  fs.mkdirSync(o.cacheDir, { recursive: true });
  const args = [script(o.root), '--out', o.outDir, '--cache', o.cacheDir];
  if (o.arch !== 'amd64') args.push('--arch', o.arch);
  if (o.mirror) args.push('--mirror', o.mirror);
  if (o.securityMirror) args.push('--security-mirror', o.securityMirror);
  const r = await runChild(process.execPath, args, o.root, o.onLine);
  if (r.code !== 0) throw ccError('CC_ERR_MICROKERNEL_BUILD', `${o.arch}: ${r.tail.slice(-4).join(' | ')}`);
}
