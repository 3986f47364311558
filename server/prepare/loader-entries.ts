/**
 * The loader entries of the registry: one per artifact of server/prepare/loaders/registry.ts, all
 * prepared by one batch (one private `apt-get update` and one `apt-get download` for every package
 * needed), each reporting on its own line. Pins make them idempotent: a file that matches its pin is
 * the file, so there is nothing to rebuild.
 */
import path from 'node:path';
import { CcError } from '../errors/cc-error.ts';
import type { LoaderArtifact, LoaderProgress } from './loaders/artifact.ts';
import { prepareLoaders } from './loaders/prepare-loaders.ts';
import { LOADERS } from './loaders/registry.ts';
import type { PrepareArtifact, PrepareEnv, PrepareOutcome } from './artifact.ts';

const ARCH: Record<LoaderArtifact['arch'], string> = { 'x86-bios': 'x86 BIOS', 'x86_64-efi': 'x86_64 UEFI', 'arm64-efi': 'arm64 UEFI' };

/** The label of a loader artifact on its line ("loader x86_64 UEFI Secure Boot"). */
export const loaderLabel = (a: LoaderArtifact) => `loader ${ARCH[a.arch]}${a.secureBoot ? ' Secure Boot' : ''}`;

const bytesOf = (a: LoaderArtifact) => a.files.reduce((n, f) => n + f.bytes, 0);
const fileList = (a: LoaderArtifact) => a.files.map((f) => f.name).join(', ');

async function runBatch(env: PrepareEnv, artifacts: readonly LoaderArtifact[]): Promise<Map<string, PrepareOutcome>> {
  const out = new Map<string, PrepareOutcome>();
  const id = (a: LoaderArtifact) => `loader:${a.name}`;
  const needed = artifacts.filter((a) => !env.prepared.loaders.find((p) => p.name === a.name)?.ready);
  for (const a of artifacts)
    if (!needed.includes(a)) {
      out.set(a.name, { status: 'present', detail: `${fileList(a)} verified`, bytes: bytesOf(a) });
      env.progress(id(a), { state: 'present', detail: `${fileList(a)} verified against their pins` });
    }
  if (needed.length === 0) return out;
  for (const a of needed) env.progress(id(a), { state: 'checking', detail: fileList(a) });
  const onProgress = (p: LoaderProgress) => {
    const targets = p.artifact === '*' ? needed : needed.filter((a) => a.name === p.artifact);
    const state = p.step === 'apt-update' || p.step === 'download' ? 'downloading' : p.step === 'present' ? 'verified' : p.step;
    for (const a of targets) env.progress(id(a), { state, detail: p.message, done: p.done, total: p.total });
  };
  try {
    await prepareLoaders({
      targetDir: env.target.loaderWorkDir,
      cacheDir: path.join(env.cacheDir, 'loaders'),
      artifacts: needed,
      mirror: env.mirror,
      securityMirror: env.securityMirror,
      onProgress,
    });
    for (const a of needed) {
      // Remote: the appliance checks each file against the same pin before it goes live.
      const theirs = env.prepared.loaders.find((p) => p.name === a.name);
      const send = a.files.filter((f) => theirs?.files.find((x) => x.name === f.name)?.status !== 'verified').map((f) => f.name);
      await env.target.publishLoaders(send, (file, done, total) => env.progress(id(a), { state: 'installing', detail: file, done, total }));
      out.set(a.name, { status: 'installed', detail: `${fileList(a)} installed, sha256 pinned`, bytes: bytesOf(a) });
      env.progress(id(a), { state: 'installed', detail: `${fileList(a)} verified against their pins` });
    }
  } catch (e) {
    const err =
      e instanceof CcError
        ? { code: e.code, message: e.message, fix: e.fix }
        : { code: 'CC_ERR_INTERNAL', message: String(e), fix: 'See the log.' };
    for (const a of needed)
      if (!out.has(a.name)) {
        out.set(a.name, { status: 'failed', detail: err.message, error: err });
        env.progress(id(a), { state: 'failed', detail: err.message });
      }
  }
  return out;
}

/** One entry per registry loader; the first to run starts the batch the others share. */
export function loaderArtifacts(artifacts: readonly LoaderArtifact[] = LOADERS): PrepareArtifact[] {
  let batch: Promise<Map<string, PrepareOutcome>> | null = null;
  return artifacts.map((a) => ({
    id: `loader:${a.name}`,
    label: loaderLabel(a),
    kind: 'loader' as const,
    needsRoot: false,
    async run(env: PrepareEnv) {
      batch ??= runBatch(env, artifacts);
      return (await batch).get(a.name)!;
    },
  }));
}
