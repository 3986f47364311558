/**
 * The microkernel entry, one per architecture. Present when the data dir holds one whose files match
 * its manifest; otherwise the first source that works: the one a package ships, a checkout's build
 * output (both only when they verify, and not with `--rebuild`), or a fresh build into the cache.
 * The result goes into the data dir through the target (staged, then renamed into place).
 */
import path from 'node:path';
import { CcError, ccError } from '../errors/cc-error.ts';
import type { PrepareArtifact, PrepareEnv, PrepareOutcome } from './artifact.ts';
import { inspectMicrokernelDir } from './inventory/microkernels.ts';
import { builtMicrokernelDir, shippedMicrokernelDir, type MicrokernelArch } from './layout.ts';
import { buildSupport, runMicrokernelBuild } from './microkernel-build.ts';

const MiB = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
/** The build logs `[microkernel   12.3s] step`: the step is what the line shows. */
const BUILD_LINE = /^\[microkernel\s+[\d.]+s\]\s*(.*)$/;

async function verifiedIn(env: PrepareEnv, dir: string, arch: MicrokernelArch): Promise<boolean> {
  try {
    return (await inspectMicrokernelDir(dir, arch, 'build', env.hashes)).status === 'verified';
  } catch {
    return false; // incomplete folder
  }
}

/** Pick (or make) the folder to install from. */
async function source(env: PrepareEnv, arch: MicrokernelArch, id: string): Promise<{ dir: string; how: string }> {
  if (!env.rebuild) {
    const shipped = shippedMicrokernelDir(env.root, arch);
    if (await verifiedIn(env, shipped, arch)) return { dir: shipped, how: 'copied from this package' };
    const built = builtMicrokernelDir(env.root, arch);
    if (await verifiedIn(env, built, arch)) return { dir: built, how: `copied from ${path.relative(env.root, built)}` };
  }
  const support = buildSupport(env.root);
  if (!support.arches.includes(arch))
    throw ccError('CC_ERR_PREPARE_UNAVAILABLE', `microkernel ${arch}: ${support.why[arch] ?? 'no build'}`);
  const out = path.join(env.cacheDir, 'microkernel', arch);
  env.progress(id, { state: 'building', detail: `Debian packages into ${out} (no root needed)` });
  await runMicrokernelBuild({
    root: env.root,
    arch,
    outDir: out,
    cacheDir: env.buildCacheDir,
    mirror: env.mirror,
    securityMirror: env.securityMirror,
    onLine: (l) => env.progress(id, { state: 'building', detail: BUILD_LINE.exec(l)?.[1] ?? l.trim() }),
  });
  if (!(await verifiedIn(env, out, arch)))
    throw ccError('CC_ERR_MICROKERNEL_BUILD', `${arch}: the build finished but its files do not match its manifest`);
  return { dir: out, how: 'built' };
}

/** The registry entry for the microkernel of `arch`. */
export function microkernelArtifact(arch: MicrokernelArch): PrepareArtifact {
  const id = `microkernel:${arch}`;
  return {
    id,
    label: `microkernel ${arch}`,
    kind: 'microkernel',
    needsRoot: false,
    async run(env): Promise<PrepareOutcome> {
      const have = env.prepared.microkernels.find((m) => m.arch === arch);
      // An unverified one (imported by hand, no manifest digests) is the operator's choice: kept.
      if (!env.rebuild && have && (have.status === 'verified' || have.status === 'unverified')) {
        const detail = `${have.version}, ${MiB(have.bytes)}${have.status === 'verified' ? ', verified' : ' (its manifest records no sha256)'}`;
        env.progress(id, { state: 'present', detail });
        return { status: 'present', detail, bytes: have.bytes };
      }
      try {
        env.progress(id, {
          state: 'checking',
          detail: have?.status === 'mismatch' ? 'the data dir holds a damaged copy' : 'none in the data dir',
        });
        const src = await source(env, arch, id);
        const version = await env.target.installMicrokernel(arch, src.dir, (file, done, total) =>
          env.progress(id, { state: 'installing', detail: file, done, total }),
        );
        const now = (await env.target.prepared()).microkernels.find((m) => m.arch === arch);
        if (now?.status !== 'verified')
          throw ccError('CC_ERR_MICROKERNEL_BUILD', `${arch}: installed, but the data dir copy does not verify`);
        const detail = `${version}, ${MiB(now.bytes)}, ${src.how}, verified`;
        env.progress(id, { state: 'installed', detail });
        return { status: 'installed', detail, bytes: now.bytes };
      } catch (e) {
        const err =
          e instanceof CcError
            ? { code: e.code, message: e.message, fix: e.fix }
            : { code: 'CC_ERR_INTERNAL', message: String(e), fix: 'See the log.' };
        const status = err.code === 'CC_ERR_PREPARE_UNAVAILABLE' ? 'unavailable' : 'failed';
        env.progress(id, { state: status, detail: err.message });
        return { status, detail: err.message, error: err };
      }
    },
  };
}
