/**
 * The chassis of an emulated Redfish system in the e2e lab. It runs inside the lab's namespace, where
 * sushy-tools posts its external notifications and where the guest's tap lives: power On starts the QEMU
 * guest, Off kills it. Every notification (and what the chassis did) is appended to a JSON-lines file the
 * test reads. Stops its guest on SIGTERM.
 *   usage: ip netns exec NS node bin/run-ts.mjs test/e2e/harness/redfish-chassis.ts PORT UUID ARGS.json OUT.jsonl
 */
import http from 'node:http';
import fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';

const [port, uuid, argsFile, outFile] = process.argv.slice(2);
if (!port || !uuid || !argsFile || !outFile) throw new Error('usage: redfish-chassis.ts PORT UUID ARGS.json OUT.jsonl');
const qemuArgs = JSON.parse(fs.readFileSync(argsFile, 'utf8')) as string[];
let guest: ChildProcess | null = null;

/** One line of the record the test reads. */
const note = (o: Record<string, unknown>): void => fs.appendFileSync(outFile, `${JSON.stringify({ ...o, at: Date.now() })}\n`);

/** Apply a notification: sushy sends the pending power state while a change is in progress. */
function apply(n: { uuid?: string; power_state?: string; pending_power?: { power_state?: string } | null }): void {
  if (n.uuid !== uuid) return;
  const want = n.pending_power?.power_state ?? n.power_state;
  if (want === 'On' && !guest) {
    const g = spawn('qemu-system-x86_64', qemuArgs, { stdio: 'ignore' });
    guest = g;
    g.once('exit', (code, signal) => {
      if (guest === g) guest = null;
      note({ chassis: 'guest-exited', code, signal });
    });
    note({ chassis: 'guest-started', pid: g.pid });
  } else if (want === 'Off' && guest) {
    guest.kill('SIGKILL');
    note({ chassis: 'guest-killed' });
  }
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      const n = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      note({ notification: n });
      apply(n);
    } catch (e) {
      note({ error: (e as Error).message });
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(Number(port), '127.0.0.1', () => note({ chassis: 'listening' }));
process.on('SIGTERM', () => {
  guest?.kill('SIGKILL');
  process.exit(0);
});
