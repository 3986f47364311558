/**
 * Run the foreign-server probe inside a test namespace and print what it heard as one JSON line:
 * `ip netns exec NS node bin/run-ts.mjs test/dhcp/harness/probe.ts IFACE MS`.
 */
import fs from 'node:fs';
import { probeForeignDhcp } from '../../../server/dhcp/probe.ts';

const iface = process.argv[2] ?? 'p0';
const ms = Number(process.argv[3] ?? 2000);
const ifindex = Number(fs.readFileSync(`/sys/class/net/${iface}/ifindex`, 'utf8'));
const r = await probeForeignDhcp({ iface, ifindex, timeoutMs: ms });
process.stdout.write(`${JSON.stringify(r)}\n`);
