/**
 * A client asked TFTP or the node plane for a first-stage loader that is not there: before issue 12 a
 * UEFI guest got "PXE-E23" and fell into its shell while the log said nothing. The appliance now says
 * which loader is missing and how to get it (`boot.loader_missing`). Pure: the caller emits.
 */
import { LOADERS } from './loaders/registry.ts';

/** The fix shown with every missing loader (events, doctor, errors). */
export const PREPARE_FIX =
  'Run `crashcart prepare --data-dir DIR` while the Debian mirror is reachable (docs/prepare.md), then boot again.';

/** What a `boot.loader_missing` event carries. */
export interface LoaderMissing {
  message: string;
  data: { file: string; artifact: string; arch: string; via: 'tftp' | 'http'; client: string; fix: string };
}

/** Loader file names are flat; firmware and iPXE sometimes prefix a slash or a folder. */
function baseName(requested: string): string {
  const parts = requested.replace(/\\/g, '/').split('/');
  return parts[parts.length - 1] ?? '';
}

/** The event for a missing `requested` file, or null when the name is no loader of the registry. */
export function loaderMissing(requested: string, via: 'tftp' | 'http', client: string): LoaderMissing | null {
  const name = baseName(requested);
  const artifact = LOADERS.find((a) => a.files.some((f) => f.name === name));
  if (!artifact) return null;
  return {
    message: `${client} asked for ${name} over ${via.toUpperCase()}, but the ${artifact.name} loader is not prepared. Fix: ${PREPARE_FIX}`,
    data: { file: name, artifact: artifact.name, arch: artifact.arch, via, client, fix: PREPARE_FIX },
  };
}
