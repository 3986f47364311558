/**
 * The UDP receive buffer a boot storm needs (server/net/pinned-udp.ts): SO_RCVBUF is capped by net.core.rmem_max,
 * so the appliance (root, or CAP_NET_ADMIN) lifts the cap with SO_RCVBUFFORCE. Real sockets on loopback.
 */
import { describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { openPinnedUdp, setRecvBuffer } from '../../server/net/pinned-udp.ts';
import { DHCP_RECV_BUFFER_BYTES } from '../../server/dhcp/defaults.ts';
import { waitFor } from '../support/wait-for.ts';

const rmemMax = Number(fs.readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
const privileged = process.getuid?.() === 0;

describe('receive buffer for bursts', () => {
  it('gets the size asked for past rmem_max when privileged, the capped size otherwise', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    try {
      const want = Math.max(DHCP_RECV_BUFFER_BYTES, rmemMax * 4);
      const got = setRecvBuffer(sock, want);
      // Linux reports double the value set (socket(7)); either way it is at least what was asked for.
      if (privileged) expect(got).toBeGreaterThanOrEqual(want);
      else expect(got).toBeGreaterThanOrEqual(Math.min(want, rmemMax));
    } finally {
      sock.close();
    }
  });

  it('a burst larger than rmem_max lands whole in a socket opened with recvBufferBytes', async () => {
    const t = await openPinnedUdp({
      port: 0,
      address: '127.0.0.1',
      ifindex: null,
      purpose: 'test',
      recvBufferBytes: DHCP_RECV_BUFFER_BYTES,
    });
    let got = 0;
    t.onMessage(() => got++);
    try {
      // spawnSync blocks this event loop while another process sends the burst, as a busy server's loop is
      // blocked: everything waits in the kernel's receive buffer, which must hold all of it.
      const n = 2000;
      const r = spawnSync(process.execPath, [
        '-e',
        `const s=require('dgram').createSocket('udp4');const b=Buffer.alloc(548,1);let i=0;` +
          `(function f(){for(;i<${n};i++)s.send(b,${t.port},'127.0.0.1');setTimeout(()=>s.close(),300)})()`,
      ]);
      expect(r.status).toBe(0);
      await waitFor('the burst to be read', 10_000, () => got >= n);
      expect(got).toBe(n);
    } finally {
      await t.close();
    }
  });
});
