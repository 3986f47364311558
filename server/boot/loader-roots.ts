/**
 * Where first-stage loaders are served from (TFTP root and the node plane's `/ipxe/`), in order: what
 * `crashcart prepare` put in `<data-dir>/loaders/`, then the copy shipped in `resources/ipxe/` (docs/boot.md
 * "Where the loaders live"). The GRUB bootstrap configuration TFTP serves is rendered into its own folder.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from './microkernel-assets.ts';
import { grubBootstrapCfg } from './grub-scripts.ts';
import { loaderRoots as layoutLoaderRoots } from '../prepare/layout.ts';

/** Loader folders, most specific first. */
export function loaderRoots(config: { dataDir: string }): string[] {
  return layoutLoaderRoots(config.dataDir, REPO_ROOT);
}

/** Folder of files rendered for TFTP (today `grub/grub.cfg`); written at each network start. */
export function renderedTftpRoot(config: { dataDir: string }): string {
  return path.join(config.dataDir, 'tftp-rendered');
}

/**
 * Write `grub/grub.cfg` for this config (it names the node plane's URL) into the rendered root, atomically:
 * Debian's network GRUB reads `(tftp,NEXT-SERVER)/grub/grub.cfg` on every architecture (docs/boot.md).
 */
export async function writeRenderedTftp(config: { dataDir: string; publicUrl: string }): Promise<string> {
  const root = renderedTftpRoot(config);
  const dir = path.join(root, 'grub');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, 'grub.cfg');
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, grubBootstrapCfg(config.publicUrl));
  await fs.rename(tmp, file);
  return root;
}
