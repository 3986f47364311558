/**
 * The RA responder plugin: runs resources/ra/ra-responder.py on the provisioning
 * NIC so iPXE's IPv6 autoconfiguration ends at once instead of waiting ~16 s per
 * boot for a router advertisement (PXE-NOTES, "Seconds that boots lose").
 * - Full DHCP (isolated rack): empty RAs to all nodes, solicited and every 10 s.
 * - Proxy DHCP (the site's network): `solicitedOnly`. Nothing multicast, nothing
 *   unsolicited; only a machine the appliance is booting (`allow(mac)`, called
 *   when proxyDHCP answers it) gets the empty RA, unicast to its link-local
 *   address in answer to its own solicitation (RFC 4861 6.2.6). Router lifetime
 *   0 and no prefix: it changes nothing on that host but ending the wait, and no
 *   other host on the site network receives it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Logger, Plugin } from '../core/plugin.ts';
import type { EventSink } from '../events/event-log.ts';

/** Unsolicited RA interval: solicitations are answered at once, this only covers missed ones. */
export const RA_INTERVAL_S = 10;

/** The plugin, plus the proxy-mode allow list. */
export interface RaResponder extends Plugin {
  /** A machine the appliance is booting: its solicitations get the empty RA (solicited-only mode). */
  allow(mac: string): void;
}

/** Create the RA responder for one NIC. */
export function createRaResponder(deps: {
  iface: string;
  resourcesDir: string;
  events: EventSink;
  log: Logger;
  intervalS?: number;
  /** Proxy mode: answer only allowed MACs' solicitations, unicast (see above). */
  solicitedOnly?: boolean;
}): RaResponder {
  let child: ChildProcess | null = null;
  return {
    name: 'ipv6-ra',
    allow(mac: string) {
      // Only a well-formed MAC reaches the responder's stdin (one line each).
      if (/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) child?.stdin?.write(`allow ${mac.toLowerCase()}\n`);
    },
    start() {
      return new Promise<void>((resolve) => {
        const script = path.join(deps.resourcesDir, 'ra', 'ra-responder.py');
        const args = [script, deps.iface, String(deps.intervalS ?? RA_INTERVAL_S), ...(deps.solicitedOnly ? ['--solicited-only'] : [])];
        const c = spawn('python3', args, { stdio: ['pipe', 'pipe', 'pipe'] });
        child = c;
        let settled = false;
        const done = (ok: boolean, why: string) => {
          if (settled) return;
          settled = true;
          if (!ok) {
            // Not fatal: boots still work, iPXE just waits for IPv6 first.
            deps.log.warn(
              { why },
              'IPv6 RA responder not running; iPXE will wait ~16 s per boot for IPv6. Fix: install python3 and keep IPv6 enabled on the NIC',
            );
            deps.events.emit('service.error', {
              message: `ipv6-ra: ${why}; iPXE waits ~16 s per boot for IPv6. Fix: install python3, enable IPv6 on ${deps.iface}`,
              data: { service: 'ipv6-ra', why },
            });
          }
          resolve();
        };
        c.stdout!.on('data', (d: Buffer) => {
          const t = d.toString();
          if (t.startsWith('ready')) done(true, '');
          else if (t.startsWith('error')) deps.log.warn({ out: t.trim() }, 'RA responder');
        });
        c.stderr!.on('data', (d: Buffer) => deps.log.debug({ err: d.toString() }, 'RA responder'));
        c.once('error', (e) => done(false, e.message));
        c.once('exit', (code) => done(false, `exited with ${code}`));
        setTimeout(() => done(false, 'did not start within 5 s'), 5000).unref();
      });
    },
    async stop() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.stdin?.end(); // the responder exits when stdin closes
        setTimeout(() => c.kill('SIGKILL'), 2000).unref();
      });
    },
  };
}
