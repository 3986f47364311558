/** The TFTP server's counters (exposed by the plugin's `stats()`). */

/** Counters and gauges of one server. */
export interface TftpStats {
  [name: string]: number;
  requests: number;
  malformed: number;
  stray: number;
  strayTid: number;
  writeRefused: number;
  refused: number;
  busyRefused: number;
  duplicateRequests: number;
  duplicateAcks: number;
  queueExpired: number;
  completed: number;
  /** Of `completed`: every block sent, the final ACK never came (final-ack.ts). */
  finalAckUnseen: number;
  failed: number;
  probes: number;
  retransmits: number;
  sendErrors: number;
  bytesSent: number;
  /** Transfers whose data phase ran in the native pump (native/tftp-pump.c). */
  nativeTransfers: number;
  /** Transfer events over the `tftp_events_per_min` budget: counted, not recorded. */
  eventsUnrecorded: number;
  /** Gauges. */
  active: number;
  queued: number;
  openSockets: number;
  openFiles: number;
}

/** All zero. */
export function newStats(): TftpStats {
  return {
    requests: 0,
    malformed: 0,
    stray: 0,
    strayTid: 0,
    writeRefused: 0,
    refused: 0,
    busyRefused: 0,
    duplicateRequests: 0,
    duplicateAcks: 0,
    queueExpired: 0,
    completed: 0,
    finalAckUnseen: 0,
    failed: 0,
    probes: 0,
    retransmits: 0,
    sendErrors: 0,
    bytesSent: 0,
    nativeTransfers: 0,
    eventsUnrecorded: 0,
    active: 0,
    queued: 0,
    openSockets: 0,
    openFiles: 0,
  };
}
