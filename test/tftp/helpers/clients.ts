/**
 * The real TFTP clients, each run in the lab's client namespace:
 * tftp-hpa (no options), atftp (blksize/windowsize/tsize), curl (blksize).
 */
import type { Lab } from './lab.ts';
import { SERVER_IP } from './lab.ts';

/** A client name. */
export type ClientName = 'tftp-hpa' | 'atftp' | 'atftp-512' | 'curl';

/** Download `remote` to `local` with one of the real clients; returns the process result. */
export function download(lab: Lab, client: ClientName, remote: string, local: string, timeoutMs = 120_000, server = SERVER_IP) {
  switch (client) {
    case 'tftp-hpa':
      // tftp-hpa sends a plain RFC 1350 request: 512-byte lock-step.
      return lab.client('tftp', [server, '-m', 'binary', '-c', 'get', remote, local], timeoutMs);
    case 'atftp':
      return lab.client(
        'atftp',
        ['--option', 'blksize 1468', '--option', 'windowsize 16', '--option', 'tsize 0', '-g', '-r', remote, '-l', local, server],
        timeoutMs,
      );
    case 'atftp-512':
      return lab.client('atftp', ['-g', '-r', remote, '-l', local, server], timeoutMs);
    case 'curl':
      return lab.client('curl', ['-sS', '--path-as-is', '--tftp-blksize', '1468', '-o', local, `tftp://${server}/${remote}`], timeoutMs);
  }
}
