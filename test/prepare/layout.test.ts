/**
 * The prepare layout (server/prepare/layout.ts) looks for a checkout's microkernel build where the build
 * writes it (server/boot/microkernel-assets.ts `microkernelDirFor`, kept in step with build/microkernel/arch.mjs),
 * and the serving side looks in the data dir first, the read-only fallbacks after.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { MICROKERNEL_DIRS, microkernelDirFor, type MicrokernelArch } from '../../server/boot/microkernel-assets.ts';
import { MICROKERNEL_ARCHES, builtMicrokernelDir, loaderRoots, microkernelCandidates } from '../../server/prepare/layout.ts';

describe('prepare layout', () => {
  it('finds the build output of every architecture the build makes', () => {
    expect([...MICROKERNEL_ARCHES].sort()).toEqual(Object.keys(MICROKERNEL_DIRS).sort());
    for (const arch of MICROKERNEL_ARCHES)
      expect(builtMicrokernelDir('/src', arch)).toBe(microkernelDirFor(arch as MicrokernelArch, '/src/build/out'));
  });

  it('puts the data dir before what a package or checkout carries', () => {
    expect(loaderRoots('/data', '/src')).toEqual(['/data/loaders', '/src/resources/ipxe']);
    expect(microkernelCandidates('/data', '/src', 'amd64')).toEqual([
      '/data/microkernel/amd64',
      '/data/microkernel',
      '/src/resources/microkernel/amd64',
      path.join('/src/build/out', MICROKERNEL_DIRS.amd64),
    ]);
    // The pre-issue-12 data dir folder held an amd64 microkernel only: never offered to arm64 machines.
    expect(microkernelCandidates('/data', '/src', 'arm64')).toEqual([
      '/data/microkernel/arm64',
      '/src/resources/microkernel/arm64',
      path.join('/src/build/out', MICROKERNEL_DIRS.arm64),
    ]);
  });
});
