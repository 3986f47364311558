/**
 * Reference server for the check-in benchmark: bare Fastify routes with the same schemas and answer
 * shapes. Check-in answers from memory; register appends the body to a file and fdatasyncs it before
 * answering (what a straightforward durable server does: one fsync per request, no group commit).
 */
import Fastify from 'fastify';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CheckinRequestSchema, RegisterRequestSchema, MAX_REGISTER_BYTES } from '../../contract/index.ts';

const port = Number(process.argv[2] ?? 0);
const app = Fastify({ logger: false, bodyLimit: MAX_REGISTER_BYTES });
const config = { checkin_interval_s: 60, checkin_skew_s: 5, facts_exclude_pattern: '', server_url: 'http://127.0.0.1', log_level: 'info' };
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cc-bare-'));
const fh = await fs.open(path.join(dir, 'register.jsonl'), 'a');
let next = 0;
app.post('/api/v1/checkin', { schema: { body: CheckinRequestSchema } }, async () => ({ command: 'acknowledge', config }));
app.post('/api/v1/register', { schema: { body: RegisterRequestSchema } }, async (req) => {
  await fh.write(JSON.stringify(req.body) + '\n');
  await fh.datasync();
  return { node_id: ++next, agent_token: 'x'.repeat(24), config };
});
await app.listen({ host: '127.0.0.1', port });
process.stdout.write(`ready ${port}\n`);
process.on('SIGTERM', () => void fs.rm(dir, { recursive: true, force: true }).finally(() => process.exit(0)));
