/**
 * What the admin API does with images and the microkernel: list, delete (refused
 * while a policy uses the image), take an uploaded file, install staged
 * microkernel files; each change is an event.
 */
import type { Readable } from 'node:stream';
import type { FileEntry, Image, MicrokernelFile, MicrokernelInstalled } from '../../contract/index.ts';
import type { MicrokernelArch } from '../prepare/layout.ts';
import type { CoreContext } from '../core/context.ts';
import type { ImageDoc } from '../store/docs.ts';
import { assertNotDiskImage, deleteImage, recordImageFile, writeImageFile } from './image-store.ts';
import { installStagedMicrokernel, stageMicrokernelFile } from './microkernel-install.ts';
import { findMicrokernel } from '../boot/microkernel-assets.ts';
import { ccError } from '../errors/cc-error.ts';

/** An image as the API shows it (without the store's key). */
export function imageView(doc: ImageDoc): Image {
  return {
    name: doc.name,
    kind: doc.kind,
    files: doc.files,
    created_at: doc.created_at,
    ...(doc.disk ? { disk: doc.disk } : {}),
    ...(doc.repo ? { repo: doc.repo } : {}),
  };
}

/** Every image, by name. */
export async function listImages(ctx: CoreContext): Promise<Image[]> {
  return (await ctx.store.images.find({}, { name: 1 })).map(imageView);
}

/** Delete an image and its files, unless a policy installs it. */
export async function removeImage(ctx: CoreContext, name: string): Promise<void> {
  const users = ctx.policies.list().filter((p) => p.image === name);
  if (users.length) throw ccError('CC_ERR_IN_USE', `image "${name}" is used by policy ${users.map((p) => p.name).join(', ')}`);
  await deleteImage(ctx.store.images, ctx.config.dataDir, name);
}

/** Store one uploaded file of an image (hashed on the way, durable), and say so. */
export async function importImageUpload(ctx: CoreContext, name: string, file: string, body: Readable, total: number): Promise<Image> {
  await assertNotDiskImage(ctx.store.images, name);
  const entry = await writeImageFile(ctx.config.dataDir, name, file, body, total);
  const doc = await recordImageFile(ctx.store.images, name, entry, ctx.now());
  ctx.events.emit('image.imported', {
    message: `Image ${doc.name}: ${entry.name} (${Math.round(entry.size / 1024)} KB) imported`,
    data: { image: doc.name, file: entry },
  });
  return imageView(doc);
}

/** Stage one uploaded microkernel file. */
export function stageMicrokernelUpload(
  ctx: CoreContext,
  file: MicrokernelFile,
  body: Readable,
  arch: MicrokernelArch = 'amd64',
): Promise<FileEntry> {
  return stageMicrokernelFile(ctx.config.dataDir, file, body, undefined, arch);
}

/** Make the staged files the live microkernel of `arch` (the next boot gets it), and say so. */
export async function installMicrokernel(
  ctx: CoreContext,
  files: readonly MicrokernelFile[],
  arch: MicrokernelArch = 'amd64',
): Promise<MicrokernelInstalled> {
  const dir = await installStagedMicrokernel(ctx.config.dataDir, files, arch);
  const version = findMicrokernel(ctx.config.dataDir, null, arch)?.version ?? 'unversioned';
  ctx.events.emit('microkernel.installed', { message: `Microkernel ${version} (${arch}) installed`, data: { dir, version, arch } });
  return { dir, version };
}
