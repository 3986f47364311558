/**
 * The pure parts of erase and burn-in, with real tool output: `hdparm -I` as the real hdparm prints it
 * (made by `hdparm --Istdin` from IDENTIFY DEVICE words, checked below against the installed hdparm),
 * `nvme id-ctrl -o json` of QEMU's NVMe controller captured in the microkernel by the e2e test, the
 * erase plan, the sample points, the overwrite pass on a real file, and the stress workers (their checks
 * can fail). Hostile tool output (a drive can say anything) never throws.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ataEraseRefusal, parseHdparmSecurity } from '../../agent/parse/hdparm-security.ts';
import { nvmeSes, parseNvmeIdCtrl } from '../../agent/parse/nvme-id-ctrl.ts';
import { allZero, planErase, sampleOffsets, SAMPLE_BYTES } from '../../agent/tasks/erase-plan.ts';
import { eraseDisk, runErase, samplesZero } from '../../agent/tasks/erase.ts';
import { burnInFacts, readDisk } from '../../agent/tasks/burn-in.ts';
import { cpuExpectations, runStressWorker } from '../../agent/tasks/stress-workers.ts';
import { mergeBurnInFacts, keepBurnInFacts } from '../../server/deploy/burnin-facts.ts';
import { burnInJob, eraseJob } from '../../server/deploy/maintenance-jobs.ts';
import type { PolicyDoc } from '../../server/store/docs.ts';
import type { TaskProgress } from '../../contract/agent-tasks.ts';

const FIX = path.join(import.meta.dirname, '../fixtures/erase');
const fixture = (n: string) => fs.readFileSync(path.join(FIX, n), 'utf8');

describe('hdparm -I Security section', () => {
  it('the fixtures are what the installed hdparm prints for their IDENTIFY DEVICE words', () => {
    for (const n of ['ata-security-ready', 'ata-security-frozen', 'ata-no-security']) {
      let out: string;
      try {
        out = execFileSync('hdparm', ['--Istdin'], { input: fixture(`${n}.identify`), encoding: 'utf8' });
      } catch (e) {
        throw new Error(`hdparm failed: ${(e as Error).message}\n  fix: apt-get install hdparm (scripts/deps/agent.txt)`);
      }
      expect(out, n).toBe(fixture(`${n}.hdparm.txt`));
    }
  });

  it('reads a drive ready for SECURITY ERASE UNIT, one frozen, one without the feature set', () => {
    const ready = parseHdparmSecurity(fixture('ata-security-ready.hdparm.txt'));
    expect(ready).toEqual({
      supported: true,
      enabled: false,
      locked: false,
      frozen: false,
      enhanced: true,
      eraseMinutes: 2,
      enhancedMinutes: 2,
    });
    expect(ataEraseRefusal(ready)).toBeNull();
    const frozen = parseHdparmSecurity(fixture('ata-security-frozen.hdparm.txt'));
    expect(frozen).toMatchObject({ supported: true, frozen: true });
    expect(ataEraseRefusal(frozen)).toMatch(/frozen/);
    expect(parseHdparmSecurity(fixture('ata-no-security.hdparm.txt'))).toBeNull();
    expect(ataEraseRefusal(null)).toMatch(/does not offer/);
  });

  it('never throws on hostile text', () => {
    for (const t of [
      '',
      'Security:',
      'Security:\n\t\tsupported\n\tnot\tfrozen\n' + 'x'.repeat(1e5),
      '\u0000\n'.repeat(1000),
      randomBytes(4096).toString('latin1'),
    ])
      expect(() => parseHdparmSecurity(t)).not.toThrow();
    expect(parseHdparmSecurity('Security:\n\t\tsupported\n\tnot\tenabled\n\t\tlocked\n')).toMatchObject({ supported: true, locked: true });
  });
});

describe('nvme id-ctrl', () => {
  it('reads the QEMU NVMe controller as nvme-cli 2.3 printed it in the microkernel (test/e2e/erase-burnin.test.ts)', () => {
    const caps = parseNvmeIdCtrl(fixture('qemu-nvme-id-ctrl.json'));
    // OACS 266 = 0x10a: Format NVM (bit 1) among others; FNA 0: no crypto erase, format is per namespace.
    expect(caps).toEqual({ format: true, cryptoErase: false, allNamespaces: false, model: 'QEMU NVMe Ctrl' });
    expect(nvmeSes(caps!)).toBe(1);
    expect(planErase({ nvme: caps, discard: true }, false).methods).toEqual(['nvme-format', 'blkdiscard', 'overwrite']);
  });
  it('reads Format NVM and crypto erase support from OACS and FNA', () => {
    expect(parseNvmeIdCtrl(JSON.stringify({ oacs: 0x0a, fna: 0x4, mn: 'Disk  ' }))).toEqual({
      format: true,
      cryptoErase: true,
      allNamespaces: false,
      model: 'Disk',
    });
    expect(nvmeSes(parseNvmeIdCtrl(JSON.stringify({ oacs: 0x2, fna: 0 }))!)).toBe(1);
    expect(parseNvmeIdCtrl(JSON.stringify({ oacs: 0, fna: 7 }))!.format).toBe(false);
  });
  it('refuses what nvme-cli does not print', () => {
    for (const t of ['', 'not json', '[]', 'null', '{"oacs":"2","fna":0}', '{"fna":0}']) expect(parseNvmeIdCtrl(t)).toBeNull();
  });
});

describe('erase plan', () => {
  const ready = parseHdparmSecurity(fixture('ata-security-ready.hdparm.txt'));
  const frozen = parseHdparmSecurity(fixture('ata-security-frozen.hdparm.txt'));
  it('tries the strongest method first and always ends with the overwrite pass', () => {
    expect(
      planErase({ nvme: { format: true, cryptoErase: false, allNamespaces: true, model: null }, discard: true }, false).methods,
    ).toEqual(['nvme-format', 'blkdiscard', 'overwrite']);
    expect(planErase({ ata: ready, discard: true }, false).methods).toEqual(['ata-secure-erase', 'blkdiscard', 'overwrite']);
    const f = planErase({ ata: frozen, discard: false }, false);
    expect(f.methods).toEqual(['overwrite']);
    expect(f.skipped.join('; ')).toMatch(/frozen.*; the disk does not take discards/);
    expect(planErase({ nvme: null, discard: false }, false).skipped[0]).toMatch(/nvme id-ctrl could not be read/);
    expect(planErase({ ata: ready, discard: true }, true)).toEqual({
      methods: ['overwrite'],
      skipped: ['the policy asks for an overwrite only'],
    });
  });
  it('samples the start, the end and between, 4 KiB aligned and inside the disk', () => {
    const size = 1e9 + 512;
    const s = sampleOffsets(size);
    expect(s[0]).toBe(0);
    expect(s.at(-1)! + SAMPLE_BYTES).toBeLessThanOrEqual(size);
    expect(size - (s.at(-1)! + SAMPLE_BYTES)).toBeLessThan(4096);
    expect(s.every((o) => o % 4096 === 0)).toBe(true);
    expect(s).toHaveLength(64);
    expect(sampleOffsets(1000)).toEqual([0]);
  });
  it('allZero checks every byte, aligned or not', () => {
    const b = Buffer.alloc(4099);
    expect(allZero(b)).toBe(true);
    for (const i of [0, 7, 8, 4095, 4098]) {
      b[i] = 1;
      expect(allZero(b), String(i)).toBe(false);
      b[i] = 0;
    }
    expect(allZero(b.subarray(3))).toBe(true);
  });
});

describe('erase of one disk (a file: the overwrite pass)', () => {
  it('writes zeros over every byte, reports progress, and says why stronger methods were not used', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-erase-unit-'));
    try {
      const f = path.join(dir, 'disk');
      const size = (6 << 20) + 512;
      fs.writeFileSync(f, randomBytes(size));
      expect(samplesZero(f, size)).toBe(false);
      const seen: TaskProgress[] = [];
      const row = await eraseDisk({ name: 'sdz', path: f, size, serial: 'S1' }, false, {
        disks: () => [],
        progress: async (p) => void seen.push(p),
        log: () => undefined,
        progressIntervalMs: 0,
      });
      expect(row).toMatchObject({ name: 'sdz', serial: 'S1', method: 'overwrite', ok: true, size });
      // An `sd` disk is asked for its ATA security state; a file does not answer.
      expect(row.note).toMatch(/^zeros written over every byte; ATA secure erase: .*; the disk does not take discards$/);
      const b = fs.readFileSync(f);
      expect(b.length).toBe(size);
      expect(allZero(b)).toBe(true);
      expect(seen.at(-1)).toMatchObject({ phase: 'erase', percent: 100, bytes_done: size, detail: `${f}: overwrite` });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('erase stops when the appliance no longer wants it', () => {
  it('starts no further disk once stopped (the operator unbound the node)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-erase-stop-'));
    try {
      const disks = ['a', 'b'].map((n) => {
        const p = path.join(dir, n);
        fs.writeFileSync(p, randomBytes(1 << 20));
        return { name: `vd${n}`, path: p, size: 1 << 20 };
      });
      let stop = false;
      const r = await runErase(
        { kind: 'erase', job_id: 'job-00001', tools: { url: '/mk/tools.img', sha256: 'a'.repeat(64), size: 1 }, overwrite_only: true },
        {
          disks: () => disks,
          progress: async (p) => {
            if (p.percent === 100) stop = true;
          },
          log: () => undefined,
          stopped: () => stop,
          progressIntervalMs: 0,
        },
      );
      expect(r.disks.map((d) => d.name)).toEqual(['vda']);
      expect(allZero(fs.readFileSync(disks[0]!.path))).toBe(true);
      expect(allZero(fs.readFileSync(disks[1]!.path))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('burn-in', () => {
  it('a stress worker counts a result that does not match as a failure (the check can fail)', async () => {
    const want = cpuExpectations();
    expect(await runStressWorker('cpu', { ms: 200, ...want })).toMatchObject({ failures: 0 });
    const bad = await runStressWorker('cpu', { ms: 200, ...want, sha: '0'.repeat(64) });
    expect(bad.failures).toBeGreaterThan(0);
    expect(bad.failures).toBe(bad.ops / 2);
    const mem = await runStressWorker('memory', { ms: 200, bytes: 8 << 20 });
    expect(mem).toMatchObject({ failures: 0, bytes: 8 << 20 });
    expect(mem.ops).toBeGreaterThan(0);
  });

  it('reads a disk for the whole time given, starting over at its end, and counts read errors', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-burnin-unit-'));
    // A clock that moves 1 ms each time it is read: the first read is t0, then one read per chunk.
    const clock = (): (() => number) => {
      let t = 0;
      return () => t++;
    };
    try {
      const f = path.join(dir, 'disk');
      fs.writeFileSync(f, randomBytes(3 << 20));
      let seen = 0;
      const r = await readDisk({ name: 'vda', path: f, size: 3 << 20 }, 7, (n) => (seen += n), clock());
      // Six 1 MiB chunks fit in 7 ms: the 3 MiB disk is read twice, not once and then idle.
      expect(r).toMatchObject({ name: 'vda', read_bytes: 6 << 20, errors: 0 });
      expect(seen).toBe(6 << 20);
      // A directory cannot be read like a disk: every read fails, each counted, and the failed pass is the last.
      const bad = await readDisk({ name: 'vdb', path: dir, size: 2 << 20 }, 1000, () => undefined, clock());
      expect(bad).toMatchObject({ errors: 2, read_bytes: 0 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns the result into burnin_* facts that a re-registration cannot overwrite', () => {
    const base = {
      kind: 'burn-in' as const,
      passed: false,
      seconds: 20.4,
      cpu: { workers: 4, bogo_ops: 1000, failures: 0 },
      memory: { bytes: 512 << 20, bogo_ops: 9, failures: 2 },
      disks: [
        { name: 'vda', read_bytes: 1, read_mbps: 120.5, errors: 0 },
        { name: 'vdb', read_bytes: 1, read_mbps: 80, errors: 1 },
      ],
    };
    const f = burnInFacts(base, '2026-01-01T00:00:00.000Z');
    expect(f).toEqual({
      burnin_passed: false,
      burnin_seconds: 20,
      burnin_finished_at: '2026-01-01T00:00:00.000Z',
      burnin_cpu_workers: 4,
      burnin_cpu_ops: 1000,
      burnin_cpu_failures: 0,
      burnin_memory_mb: 512,
      burnin_memory_failures: 2,
      burnin_disks: 2,
      burnin_disk_errors: 1,
      burnin_disk_min_mbps: 80,
    });
    const merged = mergeBurnInFacts({ a: 1, burnin_old: true }, f);
    expect(merged.burnin_old).toBeUndefined();
    expect(merged).toMatchObject({ a: 1, burnin_passed: false });
    expect(keepBurnInFacts({ a: 2, burnin_passed: true }, merged)).toMatchObject({ a: 2, burnin_passed: false });
  });
});

describe('jobs from policy metadata', () => {
  const tools = { url: '/mk/tools.img', sha256: 'a'.repeat(64), size: 1 };
  const policy = (metadata: Record<string, unknown>) => ({ name: 'p', metadata }) as unknown as PolicyDoc;
  it('reads text from the policy form and numbers from the API, with defaults', () => {
    expect(burnInJob(policy({}), tools, 'job-00001')).toMatchObject({ duration_s: 3600, memory_percent: 70, disk_read_s: 120 });
    expect(
      burnInJob(policy({ burnin_duration_s: '20', burnin_disk_read_s: 5, burnin_memory_percent: ' 30 ' }), tools, 'job-00001'),
    ).toMatchObject({
      duration_s: 20,
      disk_read_s: 5,
      memory_percent: 30,
    });
    expect(burnInJob(policy({ burnin_duration_s: 40 }), tools, 'job-00001').disk_read_s).toBe(10);
    expect(eraseJob(policy({ erase_overwrite_only: 'true' }), tools, 'job-00001').overwrite_only).toBe(true);
    expect(eraseJob(policy({}), tools, 'job-00001').overwrite_only).toBe(false);
  });
  it('refuses settings out of bounds with the key named', () => {
    expect(() => burnInJob(policy({ burnin_duration_s: '5' }), tools, 'job-00001')).toThrow(
      /burnin_duration_s must be a whole number from 10/,
    );
    expect(() => burnInJob(policy({ burnin_memory_percent: 99 }), tools, 'job-00001')).toThrow(/burnin_memory_percent/);
    expect(() => burnInJob(policy({ burnin_duration_s: 10, burnin_disk_read_s: 11 }), tools, 'job-00001')).toThrow(/longer than/);
    expect(() => eraseJob(policy({ erase_overwrite_only: 'maybe' }), tools, 'job-00001')).toThrow(/true or false/);
  });
});
