/**
 * Pure pieces of the microkernel build (build/microkernel/*.mjs): which ICU items the trim removes, module path
 * patterns, Debian upstream versions, and the compressor table against the real compressors (the magic bytes
 * the image test and the benchmark rely on).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';

const load = async (f: string) => import(pathToFileURL(path.join(REPO_ROOT, 'build/microkernel', f)).href);
const { itemsToRemove } = (await load('icu-trim.mjs')) as { itemsToRemove: (items: string[]) => string[] };
const { pathMatches } = (await load('kmods.mjs')) as { pathMatches: (rel: string, pattern: string) => boolean };
const { upstreamVersion } = (await load('busybox.mjs')) as { upstreamVersion: (v: string) => string };
const { COMPRESSORS, compress, compressorOf } = (await load('compress.mjs')) as {
  COMPRESSORS: Record<string, { cmd: string }>;
  compress: (name: string, data: Buffer, fast?: boolean) => Buffer;
  compressorOf: (b: Buffer) => string | null;
};

describe('ICU trim selection (what Node small-icu keeps: root and en)', () => {
  it('keeps root/en bundles, structure and non-locale data; drops other locales, whole trees and converters', () => {
    const keep = [
      'root.res',
      'en.res',
      'pool.res',
      'res_index.res',
      'supplementalData.res',
      'zoneinfo64.res',
      'metaZones.res',
      'units.res',
      'icuver.res',
      'nfkc.nrm',
      'uts46.nrm',
      'rfc3491.spp',
      'coll/root.res',
      'coll/en.res',
      'coll/ucadata.icu',
      'curr/pool.res',
      'zone/en.res',
      'zone/tzdbNames.res',
      'unit/res_index.res',
    ];
    const drop = [
      'de.res',
      'de_.res',
      'sr_Latn_BA.res',
      'en_GB.res',
      'zh_Hant_TW.res',
      'coll/de.res',
      'zone/fr.res',
      'brkitr/root.res',
      'brkitr/cjdict.dict',
      'brkitr/word.brk',
      'lang/en.res',
      'region/root.res',
      'rbnf/en.res',
      'translit/Latin_ASCII.res',
      'ibm-5348_P100-1997.cnv',
      'cnvalias.icu',
      'unames.icu',
      'confusables.cfu',
    ];
    expect(itemsToRemove([...keep, ...drop]).sort()).toEqual([...drop].sort());
  });
});

describe('module path patterns', () => {
  it('"dir/" is a prefix, "*" stays within one path segment, anything else is exact', () => {
    expect(pathMatches('drivers/scsi/mpt3sas/mpt3sas.ko', 'drivers/scsi/')).toBe(true);
    expect(pathMatches('drivers/ata/pata_ali.ko', 'drivers/ata/pata_*.ko')).toBe(true);
    expect(pathMatches('drivers/ata/sub/pata_ali.ko', 'drivers/ata/pata_*.ko')).toBe(false);
    expect(pathMatches('drivers/ata/ahci.ko', 'drivers/ata/pata_*.ko')).toBe(false);
    expect(pathMatches('drivers/scsi/st.ko', 'drivers/scsi/st.ko')).toBe(true);
    expect(pathMatches('drivers/scsi/sts.ko', 'drivers/scsi/st.ko')).toBe(false);
    // Regex characters in a pattern are literal.
    expect(pathMatches('a+b.ko', 'a+b.ko')).toBe(true);
    expect(pathMatches('aab.ko', 'a+b.ko')).toBe(false);
  });
});

describe('Debian versions', () => {
  it('drops the epoch and the Debian revision', () => {
    expect(upstreamVersion('1:1.35.0-4+deb12u1+b1')).toBe('1.35.0');
    expect(upstreamVersion('20230210-5')).toBe('20230210');
    expect(upstreamVersion('1:6.1-1')).toBe('6.1');
  });
});

describe('compressor table', () => {
  it.each(Object.keys(COMPRESSORS))('%s output is recognised by its magic and unpacks to the input', (name) => {
    const data = Buffer.from('crashcart '.repeat(500));
    const out = compress(name, data, true);
    expect(compressorOf(out) === name || (name === 'zstd-22' && compressorOf(out) === 'zstd')).toBe(true);
    expect(execFileSync(COMPRESSORS[name]!.cmd, ['-dc'], { input: out }).equals(data)).toBe(true);
  });
});
