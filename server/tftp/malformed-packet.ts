/**
 * The TFTP codec's decode failure: the project-wide MalformedPacket
 * (server/net/malformed.ts) with the protocol fixed to "tftp". The server
 * counts and drops it; the socket lives on.
 */
import { MalformedPacket as Base } from '../net/malformed.ts';

/** A datagram that is not a valid TFTP packet: where and why. */
export class MalformedPacket extends Base {
  constructor(offset: number, reason: string) {
    super('tftp', offset, reason);
  }
}
