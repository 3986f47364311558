/**
 * The RA responder plugin: on an isolated rack (full DHCP) it runs
 * resources/ra/ra-responder.py on the provisioning NIC so iPXE's IPv6
 * autoconfiguration ends at once instead of waiting ~16 s per boot for a router
 * advertisement (PXE-NOTES, "Seconds that boots lose"). Off in proxy mode: on a
 * shared network the real routers speak for IPv6.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Logger, Plugin } from '../core/plugin.ts';
import type { EventSink } from '../events/event-log.ts';

/** Unsolicited RA interval: solicitations are answered at once, this only covers missed ones. */
export const RA_INTERVAL_S = 10;

/** Create the RA responder for one NIC. */
export function createRaResponder(deps: {
  iface: string;
  resourcesDir: string;
  events: EventSink;
  log: Logger;
  intervalS?: number;
}): Plugin {
  let child: ChildProcess | null = null;
  return {
    name: 'ipv6-ra',
    start() {
      return new Promise<void>((resolve) => {
        const script = path.join(deps.resourcesDir, 'ra', 'ra-responder.py');
        const c = spawn('python3', [script, deps.iface, String(deps.intervalS ?? RA_INTERVAL_S)], { stdio: ['pipe', 'pipe', 'pipe'] });
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
