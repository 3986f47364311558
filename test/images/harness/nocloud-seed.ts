/**
 * A cloud-init NoCloud seed on a second disk, in either form cloud-init accepts: a vfat filesystem or an
 * ISO 9660 filesystem labelled CIDATA/cidata, holding meta-data, user-data and optionally
 * network-config (cloud-init's NoCloud datasource documentation). Made with mkfs.vfat + mcopy or with
 * xorriso. Part 2's deploy test reuses it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { run } from './tools.ts';

/** The seed's files. */
export interface Seed {
  hostname: string;
  instanceId: string;
  /** #cloud-config body (without the header line). */
  userData: string;
  /** Network config version 2 (YAML), or none (cloud-init then uses DHCP on the first NIC). */
  networkConfig?: string;
}

/** Write the seed as a small disk image at `file`. */
export function makeSeed(file: string, seed: Seed, form: 'vfat' | 'iso'): void {
  const dir = `${file}.d`;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'meta-data'), `instance-id: ${seed.instanceId}\nlocal-hostname: ${seed.hostname}\n`);
  fs.writeFileSync(path.join(dir, 'user-data'), `#cloud-config\n${seed.userData}`);
  const files = ['meta-data', 'user-data'];
  if (seed.networkConfig) {
    fs.writeFileSync(path.join(dir, 'network-config'), seed.networkConfig);
    files.push('network-config');
  }
  fs.rmSync(file, { force: true });
  if (form === 'vfat') {
    run('mkfs.vfat', ['-n', 'CIDATA', '-C', file, '2048']);
    run('mcopy', ['-i', file, ...files.map((f) => path.join(dir, f)), '::/']);
  } else {
    run('xorriso', [
      '-as',
      'mkisofs',
      '-quiet',
      '-output',
      file,
      '-volid',
      'cidata',
      '-joliet',
      '-rock',
      ...files.map((f) => path.join(dir, f)),
    ]);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
