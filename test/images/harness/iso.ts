/**
 * ISO 9660 images for the ISO tests: small package trees (a Debian-style dists/+pool/ and an RPM
 * repodata/ tree) made into ISOs by the real `xorriso`, and byte patches of one directory record
 * (found by its Rock Ridge path with our decoder, rewritten with our encoder) to make hostile ones.
 */
import fs from 'node:fs';
import path from 'node:path';
import { run, writeTree } from './tools.ts';
import {
  decodeDirRecord,
  decodeVolumeDescriptor,
  encodeDirRecord,
  ISO_SECTOR,
  type DirRecord,
} from '../../../server/images/iso/iso-records.ts';
import { decodeSusp, readRockRidge } from '../../../server/images/iso/rock-ridge.ts';

/** A tiny Debian archive: one suite, Packages, a .deb, and the `stable` and `debian -> .` links real ISOs have. */
export const DEB_TREE: Record<string, string | Buffer> = {
  'dists/bookworm/Release': 'Origin: Debian\nSuite: stable\nCodename: bookworm\nArchitectures: amd64\nComponents: main\n',
  'dists/bookworm/main/binary-amd64/Packages':
    'Package: hello\nVersion: 2.10-3\nArchitecture: amd64\nFilename: pool/main/h/hello/hello_2.10-3_amd64.deb\n',
  'pool/main/h/hello/hello_2.10-3_amd64.deb': Buffer.alloc(70_000, 7),
  '.disk/info': 'Crashcart test archive\n',
};

/** A tiny RHEL-family DVD: BaseOS and AppStream repositories and an installation tree. */
export const RPM_TREE: Record<string, string | Buffer> = {
  '.treeinfo': '[general]\nfamily = Rocky Linux\nversion = 9.4\n[variant-BaseOS]\nrepository = BaseOS\n',
  'BaseOS/repodata/repomd.xml':
    '<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>1</revision></repomd>\n',
  'BaseOS/Packages/b/bash-5.1.8-9.el9.x86_64.rpm': Buffer.alloc(30_000, 3),
  'AppStream/repodata/repomd.xml': '<?xml version="1.0" encoding="UTF-8"?>\n<repomd><revision>2</revision></repomd>\n',
  'images/install.img': Buffer.alloc(4096, 1),
};

/** Make `root` from files and symlinks (`link -> target`), then an ISO of it with Rock Ridge and Joliet. */
export function makeIso(
  out: string,
  root: string,
  files: Record<string, string | Buffer>,
  links: Record<string, string> = {},
  extra: string[] = [],
): string {
  writeTree(root, files);
  for (const [l, target] of Object.entries(links)) {
    fs.mkdirSync(path.dirname(path.join(root, l)), { recursive: true });
    fs.symlinkSync(target, path.join(root, l));
  }
  run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-V', 'CCTEST', ...extra, '-o', out, root]);
  return out;
}

/** Offset and record of the entry at `p` (Rock Ridge names, `/`-separated) in an ISO held in memory. */
export function findRecord(iso: Buffer, p: string): { offset: number; record: DirRecord } {
  const pvd = decodeVolumeDescriptor(iso.subarray(16 * ISO_SECTOR, 17 * ISO_SECTOR));
  let dir = pvd.root!;
  const parts = p.split('/');
  for (const [i, want] of parts.entries()) {
    let found: { offset: number; record: DirRecord } | null = null;
    for (let off = dir.extent * ISO_SECTOR; off < dir.extent * ISO_SECTOR + dir.size && !found;) {
      if (iso[off] === 0) {
        off = (Math.floor(off / ISO_SECTOR) + 1) * ISO_SECTOR;
        continue;
      }
      const r = decodeDirRecord(iso, off);
      if (readRockRidge(decodeSusp(r.systemUse)).name === want) found = { offset: off, record: r };
      off += iso[off]!;
    }
    if (!found) throw new Error(`${p}: no ${want}`);
    if (i === parts.length - 1) return found;
    dir = found.record;
  }
  throw new Error('empty path');
}

/** Rewrite the record at `p` with `change` applied (same length: names and system use keep their size). */
export function patchRecord(iso: Buffer, p: string, change: (r: DirRecord) => DirRecord): Buffer {
  const { offset, record } = findRecord(iso, p);
  const bytes = encodeDirRecord(change(record));
  if (bytes.length !== iso[offset]) throw new Error('a patch must keep the record length');
  const out = Buffer.from(iso);
  out.set(bytes, offset);
  return out;
}

/** Replace the Rock Ridge name of the record at `p` by `name` (same byte length). */
export function renameRecord(iso: Buffer, p: string, name: string): Buffer {
  return patchRecord(iso, p, (r) => {
    const su = Buffer.from(r.systemUse);
    const old = Buffer.from(p.split('/').pop()!);
    const at = su.indexOf(Buffer.concat([Buffer.from('NM'), Buffer.from([old.length + 5, 1, 0]), old]));
    if (at < 0 || Buffer.byteLength(name) !== old.length) throw new Error('no NM entry of that length');
    su.write(name, at + 5);
    return { ...r, systemUse: su };
  });
}
