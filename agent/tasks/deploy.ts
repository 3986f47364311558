/**
 * The `image-deploy` task in the microkernel: choose the root disk, stream the image onto it, read it
 * back and compare the sha256, write the NoCloud seed. Growing the root partition is left to the image's
 * cloud-init (growpart + resize_rootfs, docs/deploy.md). Throws TaskError with the failure code.
 */
import type { DeployJob, DeployResult, TaskProgress } from '../../contract/agent-tasks.ts';
import { pickRootDisk, type Disk } from './root-disk.ts';
import { readBackSha256, streamImageToDisk } from './image-stream.ts';
import { writeSeed } from './seed-write.ts';
import { ProgressMeter } from './progress.ts';
import { TaskError } from './task-error.ts';

/** What the deploy needs from its surroundings (real sysfs and tools in the microkernel, fakes in tests). */
export interface DeployEnv {
  disks: () => Disk[];
  progress: (p: TaskProgress) => Promise<void>;
  log: (msg: string, data?: Record<string, unknown>) => void;
  /** Absolute URL of the image (the job's URL resolved against the appliance). */
  imageUrl: string;
  zstd?: string;
  debugfs?: string;
  progressIntervalMs?: number;
}

/** Run a deploy job to the end (written, verified, seeded). */
export async function runDeploy(job: DeployJob, env: DeployEnv): Promise<DeployResult> {
  const img = job.image;
  const choice = pickRootDisk(env.disks(), job.root_device, img.size);
  if (!choice.ok) throw new TaskError('no-fitting-disk', choice.reason);
  const disk = choice.disk;
  env.log(`deploying ${img.name} to ${disk.path}: ${choice.reason}`, { disk: disk.name, size: disk.size });

  const write = new ProgressMeter('write', img.size, env.progress, disk.path, env.progressIntervalMs);
  const s = await streamImageToDisk({
    url: env.imageUrl,
    storedSize: img.stored_size,
    storedSha256: img.stored_sha256,
    size: img.size,
    diskPath: disk.path,
    zstd: env.zstd,
    onProgress: (n, resumes) => write.tick(n, resumes),
    onResume: (offset, why) => env.log(`download dropped (${why}); resuming at byte ${offset} with a Range request`),
  });
  const wrote = await write.finish(s.written, s.resumes);

  const verify = new ProgressMeter('verify', img.size, env.progress, disk.path, env.progressIntervalMs);
  const v0 = Date.now();
  const got = await readBackSha256(disk.path, img.size, (n) => verify.tick(n));
  await verify.finish(img.size);
  if (got !== img.sha256)
    throw new TaskError(
      'checksum-mismatch',
      `${disk.path} reads back with sha256 ${got}; the image's is ${img.sha256} (a failing disk or controller?)`,
    );

  let seeded = false;
  if (job.seed) {
    if (!img.root_partition)
      throw new TaskError('seed-failed', `image ${img.name} has no root partition Crashcart can read, so no seed can be written`);
    await env.progress({ phase: 'seed', bytes_done: 0, bytes_total: 0, percent: 100, mbps: 0, eta_s: null, detail: disk.path });
    writeSeed(disk.path, img.root_partition.start, job.seed, env.debugfs);
    seeded = true;
  }
  return {
    kind: 'image-deploy',
    disk: { name: disk.name, size: disk.size, model: disk.model, serial: disk.serial, reason: choice.reason },
    written_bytes: s.written,
    write_seconds: s.seconds,
    write_mbps: wrote.mbps,
    verify_seconds: (Date.now() - v0) / 1000,
    resumes: s.resumes,
    seeded,
  };
}
