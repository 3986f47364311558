/**
 * The node-facing HTTP plane: bound to the provisioning address only. Boot
 * scripts, microkernel and OS assets (with Range), the agent protocol,
 * installer callbacks and answer files. No admin route exists here.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import path from 'node:path';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  BmcEnrolAnswerSchema,
  BmcEnrolReportSchema,
  CheckinRequestSchema,
  CheckinResponseSchema,
  MAX_REGISTER_BYTES,
  RegisterRequestSchema,
  RegisterResponseSchema,
  StageAnswerSchema,
} from '../../contract/index.ts';
import type { CoreContext } from '../core/context.ts';
import { installErrorHandling, installValidation } from './error-handler.ts';
import { bootIpxeScript } from '../boot/scripts.ts';
import { bootRequest, type BootQuery } from '../nodes/boot-flow.ts';
import { renderIpxe } from '../boot/boot-render.ts';
import { findMicrokernelFor, microkernelUrlPath, MICROKERNEL_ARCHES, type MkArch } from '../boot/microkernel-select.ts';
import { loaderRoots } from '../boot/loader-roots.ts';
import { grubRoutes } from './node-grub-routes.ts';
import { rateKey, UNDER_LIMIT_HEADERS } from './rate-key.ts';
import { register, checkin } from '../nodes/registration.ts';
import { taskReport } from '../deploy/task-flow.ts';
import { TaskReportAnswerSchema, TaskReportSchema } from '../../contract/agent-tasks.ts';
import { MICROKERNEL_FILES } from '../../contract/images.ts';
import { reportStage, answerFile } from '../nodes/install.ts';
import { plainIp } from '../nodes/node-address.ts';
import { applyHttpLimits } from './http-limits.ts';
import { intervalLogger } from '../core/interval-logger.ts';
import { budgetBodies, BodyBudget, DEFAULT_BODY_BYTES_IN_FLIGHT } from './body-budget.ts';
import { ccError } from '../errors/cc-error.ts';
import { AssetServer } from './asset-server.ts';
import { sendfileAddon } from './asset-sendfile.ts';
import { bmcEnrolReport } from '../bmc/enrolment/enrol-report.ts';
import { loaderMissing } from '../prepare/loader-missing.ts';

const IPXE = 'text/plain; charset=utf-8';

/** The fields `/boot` reads, in this order. */
const BOOT_QUERY_KEYS = ['mac', 'uuid', 'serial', 'manufacturer', 'product', 'arch', 'platform'] as const;

/**
 * Only the fields `/boot` reads, from a query that may hold others: the query's schema leaves unknown parameters in
 * (a loader's extra parameter is no reason to refuse a boot), and bootRequest copies the query into the
 * `node.discovered` and `node.boot` events, so a parameter it does not read must not reach them.
 */
function bootQueryOf(q: BootQuery & Record<string, unknown>): BootQuery {
  const out: BootQuery = { mac: q.mac };
  for (const k of BOOT_QUERY_KEYS) if (k !== 'mac' && typeof q[k] === 'string') out[k] = q[k];
  return out;
}

/** Build the node plane (not listening yet). */
export async function buildNodePlane(
  ctx: CoreContext,
  opts: { rateLimitAllow?: string[]; bodyBudget?: BodyBudget } = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_REGISTER_BYTES,
    trustProxy: false,
    serializerOpts: { compileValidators: true },
  }).withTypeProvider<TypeBoxTypeProvider>();
  applyHttpLimits(app.server, ctx.settings.get(), ctx.log, 'node plane');
  // A request from the rack that fails (503 while no microkernel is installed, the body budget) is logged at most once
  // per interval with the count, as DHCP's and TFTP's warnings are: one line per request would let the rack flood the log.
  installErrorHandling(app, intervalLogger(ctx.log), ctx.config.dataDir);
  const assets = new AssetServer(undefined, !ctx.config.httpCopy);
  if (!ctx.config.httpCopy && !sendfileAddon.addon)
    ctx.log.warn({ why: sendfileAddon.why }, 'node plane: boot files are copied from memory, not sent with sendfile(2)');
  installValidation(app);
  budgetBodies(app, opts.bodyBudget ?? new BodyBudget(DEFAULT_BODY_BYTES_IN_FLIGHT), MAX_REGISTER_BYTES);
  if (ctx.config.rateLimitPerMin > 0)
    await app.register(rateLimit, {
      max: ctx.config.rateLimitPerMin,
      timeWindow: 60_000,
      allowList: opts.rateLimitAllow ?? [],
      keyGenerator: (req) => rateKey(req.ip),
      addHeadersOnExceeding: UNDER_LIMIT_HEADERS,
    });

  app.get('/health', async () => ({ ok: true }));
  app.get('/boot.ipxe', async (_req, reply) => reply.type(IPXE).send(bootIpxeScript(ctx.config.publicUrl)));

  app.get(
    '/boot',
    {
      schema: {
        querystring: Type.Object({
          mac: Type.String({ maxLength: 64 }),
          uuid: Type.Optional(Type.String({ maxLength: 1024 })),
          serial: Type.Optional(Type.String({ maxLength: 1024 })),
          manufacturer: Type.Optional(Type.String({ maxLength: 1024 })),
          product: Type.Optional(Type.String({ maxLength: 1024 })),
          arch: Type.Optional(Type.String({ maxLength: 32 })),
          platform: Type.Optional(Type.String({ maxLength: 32 })),
        }),
      },
    },
    async (req, reply) => {
      // Firmware fills these from SMBIOS: garbage (raw bytes, placeholders) is ignored by the identity
      // rules downstream, never a reason to refuse the boot.
      const r = await bootRequest(ctx, bootQueryOf(req.query), plainIp(req.ip), 'ipxe', (d) => renderIpxe(d, ctx.config.publicUrl));
      return reply.type(IPXE).send(r.answer);
    },
  );
  grubRoutes(app, ctx);

  app.post(
    '/api/v1/register',
    {
      schema: { body: RegisterRequestSchema, response: { 200: RegisterResponseSchema } },
      // Charged before the body is read: a source over its facts budget costs no parsing. A body without a
      // length (chunked) is charged the largest a register may be.
      onRequest: async (req) => {
        const len = Number(req.headers['content-length'] ?? MAX_REGISTER_BYTES);
        // Larger bodies are refused by bodyLimit (413) anyway; they cost what the largest accepted one does.
        if (!ctx.guard.chargeFacts(plainIp(req.ip), Number.isFinite(len) ? Math.min(len, MAX_REGISTER_BYTES) : MAX_REGISTER_BYTES))
          throw ccError('CC_ERR_RATE_LIMITED', `${plainIp(req.ip)} sent more facts than facts_bytes_per_source_per_min allows`);
      },
    },
    async (req) => register(ctx, req.body, plainIp(req.ip)),
  );
  app.post('/api/v1/checkin', { schema: { body: CheckinRequestSchema, response: { 200: CheckinResponseSchema } } }, async (req) =>
    checkin(ctx, req.body),
  );
  // In-band BMC enrolment, reported by the agent the check-in asked (agent token; docs/bmc.md).
  app.post('/api/v1/bmc-enrol', { schema: { body: BmcEnrolReportSchema, response: { 200: BmcEnrolAnswerSchema } } }, async (req) =>
    bmcEnrolReport(ctx, req.body, plainIp(req.ip)),
  );

  // Microkernel tasks: progress and outcome (agent token; server/deploy/task-flow.ts).
  app.post('/api/v1/agent/task', { schema: { body: TaskReportSchema, response: { 200: TaskReportAnswerSchema } } }, async (req) =>
    taskReport(ctx, req.body),
  );

  const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
  app.get(
    '/api/v1/nodes/:id/stage',
    {
      schema: {
        params: IdParams,
        querystring: Type.Object({
          token: Type.String({ maxLength: 256 }),
          name: Type.String({ maxLength: 32 }),
          detail: Type.Optional(Type.String({ maxLength: 1024 })),
        }),
        response: { 200: StageAnswerSchema },
      },
    },
    async (req) => {
      const n = await reportStage(ctx, req.params.id, req.query.token, req.query.name, plainIp(req.ip), req.query.detail);
      return { ok: true, state: n.state };
    },
  );
  app.get(
    '/api/v1/nodes/:id/files/:token/:name',
    {
      schema: {
        params: Type.Object({
          id: Type.Integer({ minimum: 1 }),
          token: Type.String({ maxLength: 256 }),
          name: Type.String({ maxLength: 128 }),
        }),
      },
    },
    async (req, reply) =>
      reply
        .type('text/plain; charset=utf-8')
        .send(await answerFile(ctx, req.params.id, req.params.token, req.params.name, plainIp(req.ip))),
  );

  // Microkernel assets: resolved per request, so an import takes effect at once. amd64 at /mk/ (with the
  // deploy tools image), every other architecture at /mk/<arch>/ (microkernel-select.ts).
  const mkFiles = [...MICROKERNEL_FILES, 'tools.img'] as const;
  const MkFile = Type.Union(mkFiles.map((f) => Type.Literal(f)));
  const sendMk = async (req: FastifyRequest, reply: FastifyReply, arch: MkArch, file: string) => {
    const mk = findMicrokernelFor(ctx.config.dataDir, ctx.config.microkernelDir, arch);
    if (!mk) throw ccError('CC_ERR_NO_MICROKERNEL', `${arch}: run npm run build:microkernel -- --arch ${arch}`);
    void transferEvent(ctx, req.ip, `${microkernelUrlPath(arch)}/${file}`).catch(() => undefined);
    return assets.send(req, reply, mk.dir, file);
  };
  app.get('/mk/:file', { schema: { params: Type.Object({ file: MkFile }) } }, async (req, reply) =>
    sendMk(req, reply, 'amd64', req.params.file),
  );
  app.get(
    '/mk/:arch/:file',
    { schema: { params: Type.Object({ arch: Type.Union(MICROKERNEL_ARCHES.map((a) => Type.Literal(a))), file: MkFile }) } },
    async (req, reply) => sendMk(req, reply, req.params.arch, req.params.file),
  );
  // First-stage loaders over HTTP (UEFI HTTP boot clients get a full URL to these; shim fetches GRUB from
  // the same folder): what `crashcart prepare` put in the data dir first, the copy shipped in resources/ second.
  const loaders = loaderRoots(ctx.config);
  app.get('/ipxe/*', async (req, reply) => assets.sendFirst(req, reply, loaders, (req.params as { '*': string })['*']));
  // OS images (kernel, initrd, ISO, disk images) with Range support (server/http/asset-server.ts).
  const images = path.join(ctx.config.dataDir, 'images');
  app.get('/images/*', async (req, reply) => assets.send(req, reply, images, (req.params as { '*': string })['*']));
  app.addHook('onResponse', async (req, reply) => {
    // Loaders too: an HTTP-boot machine's first request, and what `boot_chain: auto` watches (chain-recorder.ts).
    if ((req.url.startsWith('/images/') || req.url.startsWith('/ipxe/')) && reply.statusCode < 300)
      await transferEvent(ctx, req.ip, req.url, Number(reply.getHeader('content-length') ?? 0));
    if (req.url.startsWith('/ipxe/') && reply.statusCode === 404) {
      // Unauthenticated like any download: within the source's event budget (node-guard.ts).
      const ip = plainIp(req.ip);
      const m = loaderMissing(req.url.slice('/ipxe/'.length).split('?')[0]!, 'http', ip);
      if (m) ctx.guard.sourceEvent(ip, 'boot.loader_missing', { node_id: ctx.repo.byIp(ip)?.id ?? null, message: m.message, data: m.data });
    }
  });
  return app;
}

/**
 * An unauthenticated download: an event within the source's budget (node-guard.ts). The node is the one
 * whose last boot came from that address, else the holder of its lease (an HTTP-boot machine fetches its
 * loader before it ever asks what to boot).
 */
async function transferEvent(ctx: CoreContext, rawIp: string, url: string, bytes?: number): Promise<void> {
  const ip = plainIp(rawIp);
  let node = ctx.repo.byIp(ip);
  if (!node && url.startsWith('/ipxe/')) {
    const lease = await ctx.store.leases.findOne({ ip });
    node = lease ? ctx.repo.byMacAddress(lease.mac) : undefined;
  }
  ctx.guard.sourceEvent(ip, 'http.transfer', {
    node_id: node?.id ?? null,
    mac: node?.boot_mac ?? null,
    message: `HTTP ${url}${bytes ? ` ${Math.round(bytes / 1024)} KB` : ''}`,
    data: { url, ip, bytes: bytes ?? null },
  });
}
