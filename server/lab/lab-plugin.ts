/**
 * The virtual rack (`crashcart serve --lab sim:N`): N simulated machines, each
 * running the real agent code in-process against the node plane over real HTTP.
 */
import http from 'node:http';
import type { Logger, Plugin } from '../core/plugin.ts';
import { ccError } from '../errors/cc-error.ts';
import { loadProfiles, personalize, DEFAULT_PROFILES_DIR, type HardwareProfile } from './hardware.ts';
import { SimNode, type SimTiming } from './sim-node.ts';
import type { IpxeVars } from './ipxe-sim.ts';
import { PROTOCOL_VERSION, type CheckinRequest } from '../../contract/protocol.ts';

/** Shared sockets to the node plane: hundreds of nodes must not open hundreds of connections each. */
export const LAB_MAX_SOCKETS = 64;
/** First boots spread over about 10 ms per node, at least 1 s and at most 10 s ("a rack powering on"). */
export function bootSpreadMs(count: number): number {
  return Math.min(10_000, Math.max(1000, count * 10));
}

/** Default simulation delays: quick enough for a demo, slow enough to watch in the UI. */
export const DEFAULT_SIM_TIMING: SimTiming = {
  agentStartDelayMaxMs: 2000,
  rebootMs: 1500,
  stageDelayMs: 2000,
  backoffBaseMs: 1000,
  backoffCapMs: 60_000,
};

/** Dependencies the core passes in. */
export interface LabDeps {
  /** Node plane, e.g. http://127.0.0.1:8026 */
  baseUrl: string;
  count: number;
  log: Logger;
  seed?: number;
  intervalOverrideS?: number;
  /** Tests and the bench: shorter delays. */
  timing?: Partial<SimTiming>;
  profilesDir?: string;
}

/** A small deterministic PRNG (mulberry32) so a seed replays the same rack. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** iPXE settings of a simulated machine. */
function ipxeVars(p: HardwareProfile, mac: string, serial: string, uuid: string): IpxeVars {
  const inv = p.inventory;
  const arm = /aarch64|arm64/.test(inv.cpu.architecture ?? '');
  return {
    mac,
    uuid,
    serial,
    manufacturer: inv.system.manufacturer ?? '',
    product: inv.system.product ?? '',
    buildarch: arm ? 'arm64' : 'x86_64',
    platform: arm || inv.firmware.boot_mode === 'uefi' ? 'efi' : 'pcbios',
  };
}

/** Create the lab plugin; start() loads the profiles and powers the rack on. */
export function createLabPlugin(
  deps: LabDeps,
): Plugin & { nodes(): { mac: string; serial: string; state: string }[]; checkinRequests(): CheckinRequest[] } {
  const seed = deps.seed ?? 1;
  const timing: SimTiming = {
    ...DEFAULT_SIM_TIMING,
    ...(deps.intervalOverrideS !== undefined ? { intervalOverrideMs: deps.intervalOverrideS * 1000 } : {}),
    ...deps.timing,
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: LAB_MAX_SOCKETS });
  let sims: SimNode[] = [];
  let runs: Promise<void>[] = [];
  // One warning per distinct error text, so 500 nodes failing the same way log once.
  const warned = new Set<string>();
  const log = {
    debug: (o: unknown, m?: string) => deps.log.debug(o, m),
    info: (o: unknown, m?: string) => deps.log.debug(o, m),
    warn: (o: unknown, m?: string) => {
      const key = String(m).slice(0, 120);
      if (warned.size < 100 && !warned.has(key)) {
        warned.add(key);
        deps.log.warn(o, `lab: ${m}`);
      }
    },
    error: (o: unknown, m?: string) => deps.log.error(o, `lab: ${m}`),
  };
  return {
    name: 'lab',
    async start() {
      if (!Number.isInteger(deps.count) || deps.count < 0 || deps.count > 100_000)
        throw ccError(
          'CC_ERR_CONFIG_INVALID',
          `lab size ${deps.count} is not an integer in 0..100000; use --lab sim:N with N up to 100000`,
        );
      const profiles = await loadProfiles(deps.profilesDir ?? DEFAULT_PROFILES_DIR);
      const random = seededRandom(seed);
      const spread = bootSpreadMs(deps.count);
      sims = [];
      for (let i = 0; i < deps.count; i++) {
        const p = profiles[i % profiles.length]!;
        const { id } = personalize(p, seed, i);
        const vars = ipxeVars(p, id.mac, id.serial, id.uuid);
        // Facts are rebuilt on demand from the shared profile: nothing per node but the identity is kept.
        const inventory = () => personalize(p, seed, i).inventory;
        sims.push(
          new SimNode(
            i,
            vars,
            inventory,
            deps.baseUrl,
            timing,
            log,
            { httpAgent: agent, headers: { 'x-crashcart-lab': '1' } },
            seededRandom(seed * 1_000_003 + i),
          ),
        );
      }
      runs = sims.map((s) => s.run(Math.round(random() * spread)));
      deps.log.info({ count: deps.count, profiles: profiles.map((p) => p.name), spread_ms: spread }, 'lab: virtual rack powering on');
    },
    async stop() {
      for (const s of sims) s.stop();
      await Promise.allSettled(runs);
      agent.destroy();
    },
    nodes() {
      return sims.map((s) => ({ mac: s.vars.mac, serial: s.vars.serial, state: s.state }));
    },
    /** Valid check-in bodies of every registered node (the check-in bench fires these at the node plane). */
    checkinRequests() {
      const out: CheckinRequest[] = [];
      for (const s of sims) {
        const c = s.credentials();
        if (c) out.push({ protocol: PROTOCOL_VERSION, ...c, state: 'idle', first_checkin: false });
      }
      return out;
    },
  };
}
