import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Lab } from '../../test/dhcp/netns.ts';
import { NET, startCrashcart } from './servers.ts';
import { perfdhcp } from './perfdhcp.ts';
const lab = new Lab('try');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-dhcp-bench-'));
try {
  lab.addSwitch(); lab.addNs('srv'); lab.addNs('perf');
  lab.plug('srv', 's0', `${NET.server}/${NET.prefix}`); lab.plug('perf', 'e0', `${NET.relay}/${NET.prefix}`);
  const s = await startCrashcart(lab, 'srv', dir);
  const r = await perfdhcp(lab, 'perf', NET.relay, NET.server, Number(process.argv[2] ?? 2000), 3, 50000, 1, ['-x', 't']);
  console.log(r.raw.split('\n').slice(0, 12).join('\n'), r.raw.split('\n').filter(l=>/Rate|drops|delay/.test(l)).slice(0,20).join('\n'));
  console.log(r.raw.split('\n').slice(-30).join('\n'));
  console.log(JSON.stringify({ ...r, raw: undefined }), await s.note());
  await s.stop();
} finally { await lab.cleanup(); fs.rmSync(dir, { recursive: true, force: true }); }
