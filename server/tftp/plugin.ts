/**
 * The TFTP service as a core plugin: binds port 69 and every per-transfer
 * socket on the provisioning address, pinned to the NIC (SO_BINDTOIFINDEX).
 */
import type { Config } from '../config/schema.ts';
import type { TftpHooks } from '../core/boot-hooks.ts';
import type { Logger, Plugin } from '../core/plugin.ts';
import type { PublishingSink } from '../events/budgeted-events.ts';
import { openPinnedUdp } from '../net/pinned-udp.ts';
import { openConnectedUdp } from './connected-udp.ts';
import { blksizeForMtu, mtuOf } from './mtu.ts';
import { tftpPump } from './native-transfer.ts';
import { TftpServer } from './server.ts';

/** The listener's receive buffer: a rack's read requests arrive at once (as DHCP's do, server/dhcp/defaults.ts). */
export const TFTP_RECV_BUFFER_BYTES = 4 * 1024 * 1024;
/** What the core passes in. */
export interface TftpPluginDeps {
  config: Config;
  roots: string[];
  events: PublishingSink;
  /** Transfer events recorded a minute per bucket (setting `tftp_events_per_min`); server.ts's default when absent. */
  eventsPerMin?: () => number;
  hooks: TftpHooks;
  log: Logger;
  limits?: { maxTransfers?: number; maxPerClient?: number; blksizeCap?: number };
}

/** Create the TFTP plugin; it does nothing when no address is configured (lab mode). */
export function createTftpPlugin(deps: TftpPluginDeps): Plugin & { stats(): Record<string, number> } {
  let server: TftpServer | null = null;
  return {
    name: 'tftp',
    async start() {
      const addr = deps.config.address;
      if (addr === null) {
        deps.log.info({}, 'TFTP not started: no provisioning address (lab mode)');
        return;
      }
      const mtu = mtuOf(deps.config.iface);
      // Firmware rarely reassembles IP fragments: never offer a block larger than the NIC's MTU carries.
      const blksizeCap = Math.min(blksizeForMtu(mtu), deps.limits?.blksizeCap ?? Infinity);
      const s = new TftpServer({
        port: deps.config.ports.tftp,
        open: (port, purpose) =>
          openPinnedUdp({ port, address: addr.ip, ifindex: deps.config.ifindex, purpose, recvBufferBytes: TFTP_RECV_BUFFER_BYTES }),
        openTransfer: (peer, onSendError) => openConnectedUdp({ address: addr.ip, ifindex: deps.config.ifindex, peer, onSendError }),
        // The data phase in native code (native/tftp-pump.c): a lock-step block costs a recv and a send, not two trips through dgram.
        pump: deps.config.tftpJs ? undefined : { address: addr.ip, ifindex: deps.config.ifindex },
        roots: deps.roots,
        blksizeCap,
        maxTransfers: deps.limits?.maxTransfers,
        maxPerClient: deps.limits?.maxPerClient,
        hooks: deps.hooks,
        events: deps.events,
        eventsPerMin: deps.eventsPerMin,
        log: deps.log,
      });
      server = s;
      if (!deps.config.tftpJs && !tftpPump.addon)
        deps.log.warn({ why: tftpPump.why }, 'TFTP: transfers run in JavaScript, not in the native pump (slower lock-step)');
      await s.start();
      deps.log.info({ address: addr.ip, port: s.port, iface: deps.config.iface, mtu, blksizeCap }, 'TFTP listening');
    },
    async stop() {
      await server?.stop(); // keeps the object so stats() still reports the last counters
    },
    stats() {
      return server ? { ...server.stats, port: server.port } : {};
    },
  };
}
