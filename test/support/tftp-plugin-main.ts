/**
 * The program of the kit's TFTP-plugin-alone mode (test/support/tftp-plugin.ts starts it in a namespace):
 * Crashcart's TFTP plugin with a fake core. Protocol on stdio, one JSON line each: prints {"ready":port};
 * reads "stats" -> {"stats":{...}}, "events" -> {"events":[...]}, "stop" -> exits.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import inspector from 'node:inspector';
import { createInterface } from 'node:readline';
import type { Config } from '../../server/config/schema.ts';
import { createTftpPlugin } from '../../server/tftp/plugin.ts';
import { makeEvent } from './events.ts';
import type { TftpPluginArgs } from './tftp-plugin.ts';

const args = JSON.parse(process.argv[2] ?? '{}') as TftpPluginArgs;
const ifindex = Number(readFileSync(`/sys/class/net/${args.iface}/ifindex`, 'utf8').trim());
const config = {
  iface: args.iface,
  ifindex,
  address: { ip: args.ip, prefix: 24 },
  ports: { tftp: args.port ?? 69, dhcp: 67, proxy: 4011 },
  tftpJs: args.tftpJs ?? false,
} as unknown as Config;
const events: unknown[] = [];
const quiet = {
  debug() {},
  info() {},
  warn() {},
  error: (o: unknown, m?: string) => process.stderr.write(`${m ?? ''} ${JSON.stringify(o)}\n`),
};
const plugin = createTftpPlugin({
  config,
  roots: args.roots,
  events: {
    emit(type, e) {
      const ev = makeEvent(type, events.length + 1, e, new Date().toISOString());
      events.push(ev);
      return ev;
    },
  },
  hooks: {
    tftpFileFor: async (ip, requested) => args.overrides?.[ip]?.[requested] ?? requested,
    nodeIdForIp: async (ip) => (ip.endsWith('.2') ? 7 : null),
  },
  log: quiet,
  limits: args.limits,
});
// CC_TFTP_CPU_PROF=FILE: write a V8 CPU profile of the server on stop (used to tune the hot path).
const profFile = process.env.CC_TFTP_CPU_PROF;
const session = profFile ? new inspector.Session() : null;
const post = (m: string, p?: object) => new Promise<unknown>((res, rej) => session!.post(m, p ?? {}, (e, r) => (e ? rej(e) : res(r))));
if (session) {
  session.connect();
  await post('Profiler.enable');
  await post('Profiler.start');
}
const exit = async () => {
  await plugin.stop();
  if (session && profFile) writeFileSync(profFile, JSON.stringify(((await post('Profiler.stop')) as { profile: unknown }).profile));
  process.exit(0);
};
await plugin.start();
process.stdout.write(JSON.stringify({ ready: plugin.stats().port }) + '\n');
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'stats') process.stdout.write(JSON.stringify({ stats: plugin.stats() }) + '\n');
  else if (cmd === 'events') process.stdout.write(JSON.stringify({ events }) + '\n');
  else if (cmd === 'stop') void exit();
});
rl.on('close', () => void exit());
