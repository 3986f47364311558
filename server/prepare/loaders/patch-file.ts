/**
 * What `prepare` does to a package's file before it installs it: nothing, byte patches (byte-patch.ts), or patches
 * inside a packed image's compressed payload (ipxe-packed.ts). The caller has checked the file against
 * `fromPackage` and checks the result against `sha256`. Pure: bytes in, bytes out.
 */
import { ccError } from '../../errors/cc-error.ts';
import type { LoaderFile } from './artifact.ts';
import { applyPatches } from './byte-patch.ts';
import { sha256Hex } from './file-pin.ts';
import { repackImage, unpackImage } from './ipxe-packed.ts';

/** The bytes to install for `f`, given the package's (pinned) file; `packaged` itself when `f` patches nothing. */
export function patchFile(packaged: Buffer, f: LoaderFile): Buffer {
  const what = `${f.path} in ${f.package}`;
  let data = f.patches ? applyPatches(packaged, f.patches, what) : packaged;
  if (f.packed) {
    const payload = unpackImage(data, f.packed.layout, what);
    const sum = sha256Hex(payload);
    if (sum !== f.packed.sha256)
      throw ccError('CC_ERR_LOADER_CHECKSUM', `${what}: packed payload sha256 ${sum}, pinned ${f.packed.sha256}`);
    data = repackImage(data, f.packed.layout, applyPatches(payload, f.packed.patches, `${what} (packed payload)`));
  }
  return data;
}
