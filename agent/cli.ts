/**
 * `crashcart-agent`: the discovery agent's command line.
 *   crashcart-agent [--url URL] [--token T] [--node ID]   run the check-in loop (microkernel)
 *   crashcart-agent --once [--print] [--from DIR]          one collection (and one register + check-in unless --print)
 *   crashcart-agent collect DIR                            save the tool outputs for replay / support
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Inventory } from '../contract/node.ts';
import { collectLive } from './collect/live.ts';
import { ERRORS_FILE, readToolDir } from './collect/replay.ts';
import { compileExclude, wireFacts } from './facts/flat-facts.ts';
import { buildInventory } from './facts/inventory.ts';
import { locate } from './locate.ts';
import { AgentLoop, type LoopExit } from './loop/agent-loop.ts';
import { driversSettledGate, waitForFile } from './loop/wait-ready.ts';
import { runTask } from './tasks/run-task.ts';
import { ApplianceClient } from './loop/client.ts';
import { createStderrLogger, type AgentLogLevel } from './loop/logger.ts';
import { inbandEnroller } from './bmc/enrol-outcome.ts';
import { AGENT_VERSION } from './version.ts';

const HELP = `Usage: crashcart-agent [options]
       crashcart-agent collect DIR

Discovery agent of Crashcart: gathers hardware facts, registers with the appliance and checks in.

  --url URL           appliance node plane (default: kernel command line, CRASHCART_URL, DHCP lease, DNS "crashcart")
  --token TOKEN       enrolment token (default: crashcart.token= on the kernel command line)
  --node ID           node id (default: crashcart.node=)
  --once              collect once; with --print only print, else register and check in once, then exit
  --print             print {facts, facts_hash, inventory} as JSON on stdout
  --from DIR          replay: build facts from saved tool outputs instead of running the tools
  --exclude REGEX     drop facts whose name matches (the appliance pushes facts_exclude_pattern)
  --lldp-wait S       seconds to let lldpd hear neighbours before asking it (default 0; 35 in the microkernel)
  --wait-for FILE     wait (at most 60 s) until FILE exists before looking for the appliance (the microkernel's
                      init creates /run/crashcart/network-ready once DHCP and the LLDP capture are up)
  --drivers-settled FILE
                      before the first full inventory (not the first, fast register), wait (at most 120 s) until
                      FILE exists (the microkernel's init creates /run/crashcart/drivers-settled once the storage
                      and IPMI drivers it loads in the background are done)
  --log-level LEVEL   debug | info | warn | error (default info)
  --help              this text
`;

/** `--once` gives up after this many failed calls (the loop proper never gives up). */
const ONCE_MAX_ATTEMPTS = 4;

/** Reboot or power off the machine for real (the microkernel runs as root). */
function powerHook(what: 'reboot' | 'poweroff'): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      execFile(what, ['-f'], () => resolve());
    });
}

/** The options `main` parses (the value options are the ones whose value may start with '-'). */
const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  node: { type: 'string' },
  once: { type: 'boolean' },
  print: { type: 'boolean' },
  from: { type: 'string' },
  exclude: { type: 'string' },
  'lldp-wait': { type: 'string' },
  'wait-for': { type: 'string' },
  'drivers-settled': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean' },
} as const;

/**
 * Enrolment tokens are base64url and may start with '-', which parseArgs takes for an option
 * (`--token -Xy...` is "ambiguous"). Join `--token VALUE` into `--token=VALUE` unless VALUE is one of our options.
 */
export function joinTokenValue(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    const isOption = v !== undefined && /^--[a-z-]+(=|$)/.test(v) && v.slice(2).split('=')[0]! in OPTIONS;
    if (a === '--token' && v !== undefined && v.startsWith('-') && !isOption) {
      out.push(`--token=${v}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Run the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let a;
  try {
    a = parseArgs({
      args: joinTokenValue(argv),
      allowPositionals: true,
      options: OPTIONS,
    });
  } catch (e) {
    process.stderr.write(`crashcart-agent: ${(e as Error).message}\n  fix: see \`crashcart-agent --help\`\n`);
    return 2;
  }
  const v = a.values;
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const level = (v['log-level'] ?? 'info') as AgentLogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(level)) {
    process.stderr.write(`crashcart-agent: --log-level ${level} is not one of debug, info, warn, error\n`);
    return 2;
  }
  const log = createStderrLogger(level);
  const lldpWaitS = Number(v['lldp-wait'] ?? 0);
  // Disks and the BMC are in the full inventory only once their drivers are loaded (rootfs/load-drivers settle).
  const driversSettled = driversSettledGate(v.from ? undefined : v['drivers-settled'], log);
  const gather = async (): Promise<Inventory> => {
    if (v.from) return buildInventory(await readToolDir(v.from));
    await driversSettled();
    return buildInventory(await collectLive({ lldpWaitS: Number.isFinite(lldpWaitS) ? lldpWaitS : 0 }));
  };
  // Register-first on a live machine: identity, CPU, memory, disks and NICs at once; lshw, BMC and LLDP after.
  const gatherFast = v.from ? undefined : async (): Promise<Inventory> => buildInventory(await collectLive({ fast: true }));

  if (a.positionals[0] === 'collect') {
    const dir = a.positionals[1];
    if (!dir) {
      process.stderr.write('crashcart-agent collect: missing DIR\n  fix: crashcart-agent collect /tmp/my-machine\n');
      return 2;
    }
    const out = await collectLive({ lldpWaitS });
    await mkdir(dir, { recursive: true });
    for (const [name, text] of out.files) await writeFile(path.join(dir, name), text);
    if (out.errors.length) await writeFile(path.join(dir, ERRORS_FILE), `${JSON.stringify(out.errors, null, 2)}\n`);
    process.stderr.write(`crashcart-agent: wrote ${out.files.size} files to ${dir} (${out.errors.length} collector errors)\n`);
    return 0;
  }
  if (a.positionals.length > 0) {
    process.stderr.write(`crashcart-agent: unknown command ${a.positionals[0]}\n  fix: see \`crashcart-agent --help\`\n`);
    return 2;
  }
  const { re, error } = compileExclude(v.exclude ?? '');
  if (error) {
    process.stderr.write(`crashcart-agent: ${error}\n`);
    return 2;
  }
  if (v.print) {
    let inv: Inventory;
    try {
      inv = await gather();
    } catch (e) {
      process.stderr.write(`crashcart-agent: ${(e as Error).message}\n`);
      return 1;
    }
    const { facts, facts_hash } = wireFacts(inv, re);
    process.stdout.write(`${JSON.stringify({ facts, facts_hash, inventory: inv }, null, 2)}\n`);
    if (v.once) return 0;
  }

  const nodeFlag = v.node !== undefined ? Number(v.node) : undefined;
  if (nodeFlag !== undefined && !(Number.isInteger(nodeFlag) && nodeFlag > 0)) {
    process.stderr.write(`crashcart-agent: --node ${v.node} is not a positive integer\n`);
    return 2;
  }
  const readyFile = v['wait-for'];
  if (readyFile !== undefined) {
    const t0 = Date.now();
    log.info({ file: readyFile }, 'agent started, waiting for the network');
    const ready = await waitForFile(readyFile);
    if (ready) log.info({ file: readyFile, waited_ms: Date.now() - t0 }, 'network ready');
    else log.warn({ file: readyFile, waited_ms: Date.now() - t0 }, 'network not ready in time, looking for the appliance anyway');
  }
  const where = await locate({ flags: { url: v.url, token: v.token, nodeId: nodeFlag } });
  if (!where) {
    process.stderr.write(
      'crashcart-agent: the appliance was not found (no crashcart.url= on the kernel command line, no --url, no CRASHCART_URL, no DHCP lease, no DNS name "crashcart")\n  fix: pass --url http://APPLIANCE-IP:8026\n',
    );
    return 1;
  }
  // process_s: how long this process took to get here (Node's start and the bundle's load; docs/performance.md).
  log.info(
    { url: where.url, source: where.source, node_id: where.nodeId, process_s: Math.round(process.uptime() * 1000) / 1000 },
    `appliance found via ${where.source}`,
  );
  if (!where.token || where.token.length < 8) {
    process.stderr.write(
      'crashcart-agent: no enrolment token (crashcart.token= on the kernel command line or --token)\n  fix: network-boot the machine from Crashcart, or copy the token from the #crashcart-args line of its /boot script\n',
    );
    return 1;
  }
  let onceOk = false;
  const client = new ApplianceClient(where.url);
  // Tasks run only in the microkernel (its root is a tmpfs the tools overlay is unpacked into), never by --once.
  const inMicrokernel = fs.existsSync('/etc/os-release') && /ID=crashcart-mk/.test(fs.readFileSync('/etc/os-release', 'utf8'));
  const loop = new AgentLoop({
    client,
    token: where.token,
    nodeId: where.nodeId,
    versions: { agent: AGENT_VERSION, microkernel: where.microkernel },
    inventory: gather,
    fastInventory: gatherFast,
    hooks: {
      reboot: powerHook('reboot'),
      poweroff: powerHook('poweroff'),
      ...(inMicrokernel && !v.once ? { runTask: (job, creds) => runTask(job, creds, { client, log, toolsRoot: '/' }) } : {}),
    },
    // In-band BMC enrolment over the local IPMI interface when the appliance asks (docs/bmc.md); not for a one-off run at a shell.
    bmcEnrol: v.once ? undefined : inbandEnroller(),
    log,
    startDelayMaxMs: v.once ? 0 : undefined,
    backoffBaseMs: v.once ? 500 : undefined,
    backoffCapMs: v.once ? 2000 : undefined,
    onEvent: v.once
      ? (e) => {
          if (e.type === 'checkin') {
            onceOk = true;
            loop.stop();
          }
          // --once is for people at a shell: give up after a few attempts instead of forever.
          if (e.type === 'error' && e.attempt >= ONCE_MAX_ATTEMPTS) loop.stop();
        }
      : undefined,
  });
  const stop = (): void => loop.stop();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const exit: LoopExit = await loop.run();
  log.info({ exit, ...loop.status() }, 'agent loop ended');
  if (v.once && !onceOk) {
    const st = loop.status();
    process.stderr.write(
      `crashcart-agent: no check-in after ${ONCE_MAX_ATTEMPTS} attempts: ${st.last_error ?? 'unknown error'}\n  fix: check that ${where.url} is the appliance's node plane and reachable from here\n`,
    );
    return 1;
  }
  return 0;
}
