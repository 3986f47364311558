// The V8 code cache of the agent bundle (rootfs/agent-loader.cjs reads it): made by running the loader with the
// image's own Node binary and the exact flags supervise-agent starts it with, because V8 accepts a cache only
// from the same version with the same flags. Possible only when the image's CPU is the build host's; an image
// for another architecture ships without one (the loader then compiles as usual).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The Node flags the supervisor runs the loader with: its NODE_OPTIONS and the options on its node command line.
 * Throws when the script does not have the shape this reads (then the cache would silently never fit).
 */
export function supervisorNodeFlags(superviseText) {
  const opts = /^export .*\bNODE_OPTIONS=(\S+)/m.exec(superviseText)?.[1];
  const cmd = /^\s*node((?:\s+--[^\s]+)*)\s+\/usr\/lib\/crashcart\/agent-loader\.cjs\b/m.exec(superviseText);
  if (opts === undefined || !cmd)
    throw new Error(
      'supervise-agent: no NODE_OPTIONS= export or no `node ... /usr/lib/crashcart/agent-loader.cjs` line\n  fix: keep both in build/microkernel/rootfs/supervise-agent (build/microkernel/code-cache.mjs reads them)',
    );
  return { nodeOptions: opts, args: cmd[1].trim().split(/\s+/).filter(Boolean) };
}

/**
 * Run the loader once (`--from EMPTY --print --once`: locate, collect, inventory, facts, print) and keep the
 * cache it writes at exit. Returns { cache: Buffer } or { cache: null, why }.
 */
export function makeCodeCache({ nodeBytes, loader, agentCjs, superviseText, runnable }) {
  if (!runnable) return { cache: null, why: "the image's CPU is not the build host's (the agent compiles at start)" };
  const flags = supervisorNodeFlags(superviseText);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-mk-codecache-'));
  try {
    const bin = path.join(dir, 'node');
    writeFileSync(bin, nodeBytes, { mode: 0o755 });
    writeFileSync(path.join(dir, 'agent-loader.cjs'), loader);
    writeFileSync(path.join(dir, 'crashcart-agent.cjs'), agentCjs);
    mkdirSync(path.join(dir, 'empty'));
    const out = path.join(dir, 'crashcart-agent.cjs.cache');
    const r = spawnSync(bin, [...flags.args, path.join(dir, 'agent-loader.cjs'), '--from', path.join(dir, 'empty'), '--print', '--once'], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      env: { PATH: process.env.PATH, HOME: dir, NODE_OPTIONS: flags.nodeOptions, CRASHCART_AGENT_WRITE_CACHE: out },
    });
    if (r.status !== 0)
      throw new Error(
        `the agent did not run under the image's Node (exit ${r.status}): ${(r.stderr || r.stdout || String(r.error)).trim().slice(0, 2000)}\n  fix: node build/agent-bundle.mjs, then build again`,
      );
    return { cache: readFileSync(out) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
