/**
 * The one typed decode error every protocol codec throws (DHCP, TFTP, LLDP ...). In the contract because the
 * agent's frame parsers throw it too, and the agent imports nothing from server/.
 */

/** A datagram that could not be decoded: which protocol, where, and why. */
export class MalformedPacket extends Error {
  constructor(
    readonly protocol: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`malformed ${protocol} packet at byte ${offset}: ${reason}`);
    this.name = 'MalformedPacket';
  }
}
