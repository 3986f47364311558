/**
 * The program of the kit's DHCP-plugin-alone mode (test/support/dhcp-plugin.ts starts it in a namespace):
 * the DHCP plugin on a real store and real sockets, no planes, no core. Prints JSON lines: ready / error /
 * event / stats / reserved / stopped; reads "stats", "reserve MAC IP|-" and "stop" on stdin. Also serves a
 * tiny HTTP responder and TFTP recorder (or the real TFTP plugin) so firmware tests can see what was asked.
 */
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import dgram from 'node:dgram';
import readline from 'node:readline';
import { openStore } from '../../server/store/store.ts';
import { EventLog } from '../../server/events/event-log.ts';
import { createDhcpPlugin } from '../../server/dhcp/plugin.ts';
import { ReservationService } from '../../server/dhcp/reservations.ts';
import { reservationScope } from '../../server/dhcp/reservation-scope.ts';
import { CcError } from '../../server/errors/cc-error.ts';
import { createTftpPlugin } from '../../server/tftp/plugin.ts';
import { TestHooks, testConfig } from '../dhcp/helpers.ts';
import type { DhcpPluginArgs } from './dhcp-plugin.ts';

const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const args = JSON.parse(process.argv[2] ?? '{}') as DhcpPluginArgs;
const ifindex = Number(fs.readFileSync(`/sys/class/net/${args.iface}/ifindex`, 'utf8'));
let profiler: import('node:inspector').Session | null = null;
if (args.profileDir) {
  const inspector = await import('node:inspector');
  profiler = new inspector.Session();
  profiler.connect();
  await new Promise((r) => profiler!.post('Profiler.enable', () => profiler!.post('Profiler.start', r)));
}
const store = await openStore(args.dataDir, 0);
const events = await EventLog.open(store.eventsFile, store.legacyEventsFile, 1_000_000);
if (!args.quietEvents) events.subscribe((e) => out({ type: 'event', event: e }));
const config = testConfig({
  iface: args.iface,
  ifindex,
  address: { ip: args.ip, prefix: args.prefix },
  dhcp: args.mode,
  range: args.range,
  force: args.force,
  publicUrl: `http://${args.ip}:8026`,
  ...args.config,
});
// Reservations as the core keeps them (store-backed, read live); `reserve MAC IP|-` on stdin edits them.
const reservations = await ReservationService.open(store.reservations, () => reservationScope(config, store), events);
const plugin = createDhcpPlugin({
  config,
  leases: store.leases,
  reservations,
  events,
  hooks: new TestHooks(),
  log: {
    debug: () => undefined,
    info: (o: unknown, msg?: string) => out({ type: 'log', level: 'info', msg, o }),
    warn: (o: unknown, msg?: string) => out({ type: 'log', level: 'warn', msg, o: String((o as { err?: unknown })?.err ?? '') }),
    error: (o: unknown, msg?: string) => out({ type: 'log', level: 'error', msg, o: String((o as { err?: unknown })?.err ?? '') }),
  },
  options: args.options ?? {},
});
const log = {
  debug: () => undefined,
  info: () => undefined,
  warn: (o: unknown, msg?: string) => out({ type: 'log', level: 'warn', msg, o: String((o as { err?: unknown })?.err ?? '') }),
  error: (o: unknown, msg?: string) => out({ type: 'log', level: 'error', msg, o: String((o as { err?: unknown })?.err ?? '') }),
};
const realTftp =
  args.bootServers && args.realTftp
    ? createTftpPlugin({
        config,
        roots: [path.resolve(import.meta.dirname, '../../resources/ipxe')],
        events,
        log,
        hooks: {
          tftpFileFor: async (ip: string, requested: string) => {
            out({ type: 'tftp', file: requested, from: ip });
            await plugin.noteTftpRequest(ip);
            return requested;
          },
          nodeIdForIp: async () => null,
        },
      })
    : null;
let httpServer: http.Server | null = null;
let tftp: dgram.Socket | null = null;
if (args.bootServers) {
  httpServer = http.createServer((req, res) => {
    out({ type: 'http', url: req.url });
    res.writeHead(404).end();
  });
  httpServer.listen(8026, args.ip);
}
if (args.bootServers && !realTftp) {
  tftp = dgram.createSocket('udp4');
  tftp.on('message', (m, r) => {
    // RFC 1350: opcode 1 = RRQ, then filename NUL mode NUL. Record it and answer "file not found".
    if (m.readUInt16BE(0) !== 1) return;
    const name = m.subarray(2, m.indexOf(0, 2)).toString('latin1');
    out({ type: 'tftp', file: name, from: r.address });
    void plugin.noteTftpRequest(r.address);
    tftp?.send(Buffer.concat([Buffer.from([0, 5, 0, 1]), Buffer.from('not here\0')]), r.port, r.address);
  });
  tftp.bind(69, args.ip);
}
try {
  await realTftp?.start();
  await plugin.start();
  out({ type: 'ready', ifindex });
} catch (e) {
  out({
    type: 'error',
    code: e instanceof CcError ? e.code : 'unknown',
    message: (e as Error).message,
    fix: e instanceof CcError ? e.fix : null,
  });
  await store.close();
  process.exit(3);
}
const stop = async () => {
  await plugin.stop();
  await realTftp?.stop();
  if (profiler && args.profileDir) {
    const prof = await new Promise<unknown>((r) => profiler!.post('Profiler.stop', (_e, p) => r(p.profile)));
    fs.writeFileSync(`${args.profileDir}/dhcp.cpuprofile`, JSON.stringify(prof));
  }
  httpServer?.close();
  tftp?.close();
  await events.close();
  await store.close();
  out({ type: 'stopped', stats: plugin.stats() });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
readline.createInterface({ input: process.stdin }).on('line', (l) => {
  if (l === 'stats') out({ type: 'stats', stats: plugin.stats() });
  if (l === 'stop') void stop();
  const r = /^reserve (\S+) (\S+)$/.exec(l);
  if (r)
    void reservations
      .setReservation(r[1]!, r[2] === '-' ? null : r[2]!)
      .then((res) => out({ type: 'reserved', mac: r[1], reservation: res }))
      .catch((e: unknown) => out({ type: 'reserved', mac: r[1], error: e instanceof CcError ? e.code : String(e) }));
});
