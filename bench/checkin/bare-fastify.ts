/** Reference server for the check-in benchmark: a bare Fastify route with the same schema and answer shape. */
import Fastify from 'fastify';
import { CheckinRequestSchema } from '../../contract/index.ts';

const port = Number(process.argv[2] ?? 0);
const app = Fastify({ logger: false });
const config = { checkin_interval_s: 60, checkin_skew_s: 5, facts_exclude_pattern: '', server_url: 'http://127.0.0.1', log_level: 'info' };
app.post('/api/v1/checkin', { schema: { body: CheckinRequestSchema } }, async () => ({ command: 'acknowledge', config }));
await app.listen({ host: '127.0.0.1', port });
process.stdout.write(`ready ${port}\n`);
