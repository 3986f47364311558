/**
 * The one typed decode failure of the TFTP codec. The server counts and drops
 * it; the socket lives on. (Same shape as the project-wide MalformedPacket.)
 */

/** A datagram that is not a valid TFTP packet: where and why. */
export class MalformedPacket extends Error {
  readonly protocol = 'tftp';
  constructor(
    /** Byte offset where decoding stopped. */
    readonly offset: number,
    /** What was wrong, in words. */
    readonly reason: string,
  ) {
    super(`malformed tftp packet at byte ${offset}: ${reason}`);
    this.name = 'MalformedPacket';
  }
}
