/**
 * Raw-body uploads: OS image files and microkernel files. They live in their
 * own plugin scope so `application/octet-stream` is parsed here and nowhere
 * else; every other admin route takes JSON only.
 */
import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { NameSchema } from '../../../contract/index.ts';
import type { CoreContext } from '../../core/context.ts';
import { writeImageFile, recordImageFile } from '../../images/image-store.ts';
import {
  MICROKERNEL_FILES,
  installStagedMicrokernel,
  stageMicrokernelFile,
  type MicrokernelFile,
} from '../../images/microkernel-install.ts';
import { findMicrokernel } from '../../boot/microkernel-assets.ts';
import { ccError } from '../../errors/cc-error.ts';
import { MICROKERNEL_ARCHES, type MicrokernelArch } from '../../prepare/layout.ts';

const OCTETS = 'application/octet-stream';
const FileEntry = Type.Object({ name: Type.String(), size: Type.Integer(), sha256: Type.String() });
const MkFile = Type.Union(MICROKERNEL_FILES.map((f) => Type.Literal(f)));
/** Which architecture's microkernel (default amd64, the only one before issue 12). */
const MkArch = Type.Union(MICROKERNEL_ARCHES.map((a) => Type.Literal(a)));

/** Register the upload routes in their own scope. */
export function uploadRoutes(app: FastifyInstance, ctx: CoreContext): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  app.addContentTypeParser(OCTETS, (_req, payload, done) => done(null, payload));
  const raw = (ct: string | undefined) => {
    if (!ct || ct.split(';')[0]!.trim().toLowerCase() !== OCTETS) throw ccError('CC_ERR_UNSUPPORTED_MEDIA', `send the file as ${OCTETS}`);
  };

  r.put(
    '/api/v1/images/:name/files/:file',
    {
      bodyLimit: 64 * 1024 ** 3,
      config: { rawBody: OCTETS },
      schema: {
        tags: ['images'],
        params: Type.Object({ name: NameSchema, file: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' }) }),
      },
    },
    async (req) => {
      raw(req.headers['content-type']);
      const total = Number(req.headers['content-length'] ?? 0);
      const entry = await writeImageFile(ctx.config.dataDir, req.params.name, req.params.file, req.body as Readable, total);
      const doc = await recordImageFile(ctx.store.images, req.params.name, entry, ctx.now());
      ctx.events.emit('image.imported', {
        message: `Image ${doc.name}: ${entry.name} (${Math.round(entry.size / 1024)} KB) imported`,
        data: { image: doc.name, file: entry },
      });
      const { _id, ...rest } = doc;
      void _id;
      return rest;
    },
  );

  r.put(
    '/api/v1/microkernel/staging/:file',
    {
      bodyLimit: 4 * 1024 ** 3,
      config: { rawBody: OCTETS },
      schema: {
        tags: ['microkernel'],
        params: Type.Object({ file: MkFile }),
        querystring: Type.Object({ arch: Type.Optional(MkArch) }, { additionalProperties: false }),
        response: { 200: FileEntry },
      },
    },
    async (req) => {
      raw(req.headers['content-type']);
      const arch = (req.query.arch ?? 'amd64') as MicrokernelArch;
      return stageMicrokernelFile(ctx.config.dataDir, req.params.file as MicrokernelFile, req.body as Readable, undefined, arch);
    },
  );
  r.post(
    '/api/v1/microkernel/install',
    {
      schema: {
        tags: ['microkernel'],
        summary: 'Make the staged files the live microkernel (takes effect at the next boot)',
        body: Type.Object(
          { files: Type.Array(MkFile, { minItems: 2, maxItems: 3, uniqueItems: true }), arch: Type.Optional(MkArch) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ dir: Type.String(), version: Type.String() }) },
      },
    },
    async (req) => {
      const arch = (req.body.arch ?? 'amd64') as MicrokernelArch;
      const dir = await installStagedMicrokernel(ctx.config.dataDir, req.body.files as MicrokernelFile[], arch);
      const version = findMicrokernel(ctx.config.dataDir, null, arch)?.version ?? 'unversioned';
      ctx.events.emit('microkernel.installed', { message: `Microkernel ${version} (${arch}) installed`, data: { dir, version, arch } });
      return { dir, version };
    },
  );
}
