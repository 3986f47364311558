/**
 * The DHCP side of one simulated machine, built with Crashcart's own codec: a PXE ROM's DORA (options 60
 * PXEClient, 93 arch, 94 UNDI, 97 GUID, broadcast flag) and then iPXE's (77 `iPXE`, 175), on a socket
 * pinned to the machine's own interface. Retries as the firmware does (PXE: 4, 8, 16 s; iPXE: 1, 2, 4, 8 s).
 */
import dgram from 'node:dgram';
import { decode, type DhcpPacket } from '../../server/dhcp/codec.ts';
import { collectOptions, messageType, MSG, OPTIONS, readOption } from '../../server/dhcp/options.ts';
import { pinToIfindex, setRecvBuffer } from '../../server/net/pinned-udp.ts';
import { clientPacket } from '../../test/dhcp/helpers.ts';

/** What the machine learnt from an ACK. */
export interface Lease {
  ip: string;
  server: string;
  /** The `file` field, or option 67 when longer. */
  file: string;
  siaddr: string;
}

/** Which firmware is asking. */
export type Stage = 'pxe' | 'ipxe';

const PARAMS = [
  1, 2, 3, 5, 6, 11, 12, 13, 15, 16, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51, 54, 58, 59, 60, 66, 67, 97, 128, 129, 130, 131, 132, 133,
  134, 135, 175,
];
const TIMEOUTS: Record<Stage, number[]> = { pxe: [4000, 8000, 16000], ipxe: [1000, 2000, 4000, 8000] };

/** Receive buffer per machine socket (SO_RCVBUFFORCE; the rack runs as root). */
const RECV_BUFFER = 1024 * 1024;

const macBytes = (mac: string) => mac.split(':').map((h) => parseInt(h, 16));

/** A DHCP client bound to 0.0.0.0:68 on one interface (SO_BINDTOIFINDEX), sharing the port with its neighbours. */
export class DhcpClient {
  private readonly sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  private waiting: ((p: DhcpPacket) => void) | null = null;
  /** DISCOVERs and REQUESTs sent again after a timeout. */
  retries = 0;

  constructor(
    private readonly mac: string,
    private readonly ifindex: number,
    /** 16 bytes: the SMBIOS UUID as option 97 carries it. */
    private readonly guid: Uint8Array,
  ) {}

  /** Bind and pin. */
  async open(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.sock.once('error', reject);
      this.sock.bind(68, '0.0.0.0', () => resolve());
    });
    pinToIfindex(this.sock, this.ifindex);
    // Every broadcast reply reaches every machine's socket (500 machines: 500 copies of each). A real machine's
    // firmware drops the others' on its own CPU; the rack, one loop for all of them, needs a buffer that outlasts
    // a busy turn (the stock 208 KiB overflowed and lost its own reply: docs/perf/changes.md, "500 machines") and
    // drops them by chaddr (BOOTP bytes 28-33) before decoding anything.
    setRecvBuffer(this.sock, RECV_BUFFER);
    this.sock.setBroadcast(true);
    const own = Buffer.from(macBytes(this.mac));
    this.sock.on('message', (buf) => {
      if (buf.length < 34 || buf[0] !== 2 || own.compare(buf, 28, 34) !== 0) return;
      try {
        this.waiting?.(decode(buf));
      } catch {
        /* not a DHCP message */
      }
    });
  }

  /** Close the socket. */
  close(): void {
    this.sock.close();
  }

  private packet(stage: Stage, xid: number, type: number, extra: [number, Uint8Array][]): Uint8Array {
    const o: [number, Uint8Array][] = [
      [53, Uint8Array.of(type)],
      [57, Uint8Array.of(0x05, 0xc0)], // 1472
      [93, Uint8Array.of(0, 0)], // BIOS x86
      [94, Uint8Array.of(1, 2, 1)], // UNDI 2.1
      [97, Uint8Array.of(0, ...this.guid)],
      [60, Buffer.from('PXEClient:Arch:00000:UNDI:002001', 'latin1')],
      [55, Uint8Array.from(PARAMS)],
    ];
    if (stage === 'ipxe') {
      o.push([77, Buffer.from('iPXE', 'latin1')]);
      // iPXE's feature flags (175): HTTP, DNS, bzImage, PXE ext; any non-empty list marks the client as iPXE.
      o.push([175, Uint8Array.of(0x13, 1, 1, 0x17, 1, 1, 0x18, 1, 1, 0x10, 1, 2)]);
      o.push([61, Uint8Array.of(1, ...macBytes(this.mac))]);
    }
    o.push(...extra);
    // RFC 2131 4.1: no address yet, answer by broadcast.
    return clientPacket({ mac: this.mac, xid, flags: 0x8000, options: o });
  }

  /** Send `pkt` until a reply of one of `types` with this xid arrives, backing off; null when every wait ran out. */
  private async exchange(stage: Stage, pkt: Uint8Array, xid: number, types: number[]): Promise<DhcpPacket | null> {
    const waits = TIMEOUTS[stage];
    for (let attempt = 0; attempt < waits.length; attempt++) {
      if (attempt > 0) this.retries++;
      const got = new Promise<DhcpPacket | null>((resolve) => {
        const t = setTimeout(() => {
          this.waiting = null;
          resolve(null);
        }, waits[attempt]);
        this.waiting = (p) => {
          if (p.xid !== xid) return;
          const t2 = messageType(collectOptions(p));
          if (t2 === null || !types.includes(t2)) return;
          clearTimeout(t);
          this.waiting = null;
          resolve(p);
        };
      });
      this.sock.send(pkt, 67, '255.255.255.255');
      const p = await got;
      if (p) return p;
    }
    return null;
  }

  /** One DORA as `stage`; throws with what went wrong. */
  async dora(stage: Stage): Promise<Lease> {
    for (let round = 0; round < 3; round++) {
      const xid = (Math.random() * 0x100000000) >>> 0;
      const offer = await this.exchange(stage, this.packet(stage, xid, MSG.DISCOVER, []), xid, [MSG.OFFER]);
      if (!offer) throw new Error(`${stage}: no OFFER`);
      const oo = collectOptions(offer);
      const server = readOption(oo, OPTIONS.SERVER_ID) ?? offer.siaddr;
      const req = this.packet(stage, xid, MSG.REQUEST, [
        [54, Uint8Array.from(server.split('.').map(Number))],
        [50, Uint8Array.from(offer.yiaddr.split('.').map(Number))],
      ]);
      const ack = await this.exchange(stage, req, xid, [MSG.ACK, MSG.NAK]);
      if (!ack) throw new Error(`${stage}: no ACK`);
      const ao = collectOptions(ack);
      if (messageType(ao) === MSG.NAK) {
        this.retries++;
        continue; // RFC 2131 3.1: a NAK restarts at DISCOVER
      }
      const field = Buffer.from(ack.file).toString('latin1').replace(/\0.*$/s, '');
      return { ip: ack.yiaddr, server, file: readOption(ao, OPTIONS.BOOTFILE) ?? field, siaddr: ack.siaddr };
    }
    throw new Error(`${stage}: NAKed three times`);
  }
}
