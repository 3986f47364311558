/**
 * Small disk images made the way other tools make them (sgdisk/sfdisk tables, mkfs.vfat + mcopy ESP,
 * mke2fs -d root), standing in for "a golden image made elsewhere" in import tests. Nothing here uses
 * Crashcart's own codecs, so the importer is checked against independent tools.
 */
import fs from 'node:fs';
import path from 'node:path';
import { run, writeTree } from './tools.ts';

/** What to put on the sample disk. */
export interface SampleSpec {
  table: 'gpt' | 'mbr';
  /** Boot code in the MBR (a stand-in: GRUB's marker text, not real code). */
  bootCode: boolean;
  /** An ESP with EFI/BOOT/BOOTX64.EFI (GPT only). */
  esp: boolean;
  /** The root filesystem: ext4 (readable) or a partition that only carries the XFS magic. */
  root: 'ext4' | 'xfs-magic';
  /** /etc/cloud and /usr/bin/cloud-init in the root. */
  cloudInit: boolean;
}

const MIB = 1024 * 1024;

/** Build a 64 MiB sample disk at `file`; `work` is a scratch folder. */
export function makeSampleDisk(file: string, work: string, s: SampleSpec): void {
  fs.mkdirSync(work, { recursive: true });
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, '');
  fs.truncateSync(file, 64 * MIB);
  let rootStart: number;
  let rootMiB: number;
  if (s.table === 'gpt') {
    run('sgdisk', [
      '-n', '1:2048:+1M', '-t', '1:EF02', '-c', '1:BIOS boot',
      '-n', '2:0:+16M', '-t', '2:EF00', '-c', '2:EFI system',
      '-n', '3:0:0', '-t', '3:8304', '-c', '3:root',
      file,
    ]); // prettier-ignore
    rootStart = 18 * MIB;
    rootMiB = 45;
    if (s.esp) {
      const esp = path.join(work, 'esp.img');
      fs.rmSync(esp, { force: true });
      writeTree(work, { 'BOOTX64.EFI': Buffer.alloc(4096, 0x4d) });
      run('mkfs.vfat', ['-F', '16', '-n', 'EFI', '-C', esp, String(16 * 1024)]);
      run('mmd', ['-i', esp, '::/EFI', '::/EFI/BOOT']);
      run('mcopy', ['-i', esp, path.join(work, 'BOOTX64.EFI'), '::/EFI/BOOT/BOOTX64.EFI']);
      place(file, esp, 2 * MIB);
    }
  } else {
    run('sfdisk', ['-q', file], { input: 'label: dos\nstart=2048, size=30720, type=83, bootable\nstart=32768, type=82\n' });
    rootStart = MIB;
    rootMiB = 15;
  }
  if (s.bootCode) {
    const fd = fs.openSync(file, 'r+');
    const code = Buffer.alloc(440, 0x90);
    code.write('GRUB Geom Hard Disk Read Error', 0x180, 'latin1');
    fs.writeSync(fd, code, 0, code.length, 0);
    fs.closeSync(fd);
  }
  const root = path.join(work, 'root.img');
  fs.rmSync(root, { force: true });
  if (s.root === 'ext4') {
    const tree = path.join(work, 'tree');
    fs.rmSync(tree, { recursive: true, force: true });
    writeTree(tree, { 'usr/lib/os-release': 'NAME="Sample"\nPRETTY_NAME="Sample Linux 9"\n', 'etc/fstab': '\n' });
    fs.symlinkSync('../usr/lib/os-release', path.join(tree, 'etc/os-release'));
    if (s.cloudInit)
      writeTree(tree, {
        'usr/bin/cloud-init': '#!/usr/bin/python3\n',
        'etc/cloud/cloud.cfg': 'users: [default]\n',
        'etc/cloud/cloud.cfg.d/10-ds.cfg': 'datasource_list: [ NoCloud, ConfigDrive ]\n',
      });
    run('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', tree, root, `${rootMiB}M`]);
  } else {
    fs.writeFileSync(root, Buffer.concat([Buffer.from('XFSB'), Buffer.alloc(4092)]));
  }
  place(file, root, rootStart);
}

/** Write `src` into `file` at `offset` (like dd conv=notrunc). */
function place(file: string, src: string, offset: number): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, fs.readFileSync(src), 0, undefined, offset);
  fs.closeSync(fd);
}
