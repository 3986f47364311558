/**
 * Byte patches of pinned loader files (server/prepare/loaders/byte-patch.ts): applied only where the file holds the
 * expected bytes, never past the end or over one another, and never to the caller's buffer. The registry's real
 * patches against the real files: registry-fetch.test.ts; the patched iPXE booting: firmware-smoke.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { applyPatches } from '../../server/prepare/loaders/byte-patch.ts';
import { CcError } from '../../server/errors/cc-error.ts';

const file = () => Buffer.from('00112233445566778899', 'hex');

function refused(patches: Parameters<typeof applyPatches>[1], text: RegExp): void {
  const data = file();
  let err: unknown;
  try {
    applyPatches(data, patches, 'x.efi');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CcError);
  expect((err as CcError).code).toBe('CC_ERR_LOADER_UNPACK');
  expect((err as CcError).message).toMatch(text);
  expect((err as CcError).fix).toContain('docs/boot.md');
  expect(data).toEqual(file());
}

describe('applyPatches', () => {
  it('replaces the expected bytes at each offset in a copy, and leaves the rest and the input as they were', () => {
    const data = file();
    const out = applyPatches(
      data,
      [
        { offset: 1, from: '1122', to: 'aabb' },
        { offset: 9, from: '99', to: '00' },
      ],
      'x.efi',
    );
    expect(out.toString('hex')).toBe('00aabb33445566778800');
    expect(data).toEqual(file());
    expect(applyPatches(data, [], 'x.efi')).toEqual(data);
  });

  it('refuses a patch that finds other bytes than it expects (another build of the file)', () => {
    refused([{ offset: 2, from: '1122', to: 'aabb' }], /at 2 the file holds 2233, the patch expects 1122/);
  });

  it('refuses a patch past the end, at a negative or fractional offset, or overlapping another', () => {
    refused([{ offset: 9, from: '9900', to: 'aabb' }], /runs past the end/);
    refused([{ offset: -1, from: '00', to: 'aa' }], /runs past the end/);
    refused([{ offset: 1.5, from: '11', to: 'aa' }], /runs past the end/);
    refused(
      [
        { offset: 1, from: '1122', to: 'aabb' },
        { offset: 2, from: '22', to: 'cc' },
      ],
      /at 2 overlaps another/,
    );
  });

  it('refuses malformed patches: odd or non-hex strings, or a replacement of another length', () => {
    refused([{ offset: 1, from: '112', to: 'aab' }], /not two hex strings of one length/);
    refused([{ offset: 1, from: '11', to: 'zz' }], /not two hex strings/);
    refused([{ offset: 1, from: '11', to: 'aabb' }], /of one length/);
    refused([{ offset: 1, from: '', to: '' }], /not two hex strings/);
  });
});
