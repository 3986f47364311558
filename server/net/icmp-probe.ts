/** The optional conflict check before an OFFER: does anything answer a ping on that address? */
import { execFile } from 'node:child_process';

/**
 * Ping `ip` once through `iface` and wait up to one second (RFC 2131 3.1 step 2
 * suggests probing; dnsmasq's default costs ~3 s per new client, so it is off by default).
 * Resolves true when something answered.
 */
export function addressInUse(iface: string, ip: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('ping', ['-n', '-q', '-c', '1', '-W', '1', '-I', iface, ip], { timeout: 3000 }, (err) => resolve(!err));
  });
}
