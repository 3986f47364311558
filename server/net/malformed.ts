/** The one typed decode error every protocol codec throws (DHCP, TFTP, ...): the contract's, shared with the agent. */
export { MalformedPacket } from '../../contract/malformed-packet.ts';
