/**
 * The check-in loop (Razor/Hanlon Microkernel Controller lineage): register on
 * first start and whenever the facts hash changes, check in every interval with
 * a random skew, back off exponentially with jitter while the appliance is away
 * (forever), apply pushed config without a restart, obey commands.
 */
import { setTimeout as sleepTimer } from 'node:timers/promises';
import type { Inventory } from '../../contract/node.ts';
import type { AgentJob } from '../../contract/agent-tasks.ts';
import { PROTOCOL_VERSION, type AgentCommand, type AgentConfig } from '../../contract/protocol.ts';
import { compileExclude } from '../facts/flat-facts.ts';
import { backoffDelay, DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_CAP_MS } from './backoff.ts';
import { ApplianceError, type ApplianceClient } from './client.ts';
import type { AgentLogger } from './logger.ts';
import { buildRegisterRequest } from './register-request.ts';
import { ConfigRefusals, MAX_RETRY_AFTER_MS, sameAppliance } from './trust.ts';
import type { BmcEnrolOutcome } from '../bmc/enrol-outcome.ts';

/**
 * Hanlon delayed its first check-in by up to 5 s so a rack powering on together spreads out. A rack that powers on
 * together is spread by firmware POST and the microkernel download already (500 machines pulling 41 MB each take
 * 17 s at 10 GbE line rate), and the appliance group-commits registers (bench/checkin: 2,700 registers/s with
 * fsync; bench/storm: 100 machines at once, no failure), so a quarter second is enough: issue 17 wants the node
 * visible within a second of the agent starting, and the wait was half a second of that on average at 1 s.
 */
export const DEFAULT_START_DELAY_MAX_MS = 250;
/** Facts older than this are collected again (lshw is heavy; hardware rarely changes under a running microkernel). */
export const DEFAULT_FACTS_MAX_AGE_MS = 600_000;
/** Until the appliance pushes its config: the core's defaults (server/config/defaults.ts). */
export const INITIAL_CONFIG: AgentConfig = {
  checkin_interval_s: 60,
  checkin_skew_s: 5,
  facts_exclude_pattern: '',
  server_url: '',
  log_level: 'info',
};

/** What runs a command on the machine (real `reboot -f` in the microkernel, a hook in tests and the lab). */
export interface AgentHooks {
  reboot(): Promise<void> | void;
  poweroff(): Promise<void> | void;
  /** Carry out a microkernel task (agent/tasks/run-task.ts); absent: `run-task` answers are ignored. */
  runTask?(job: AgentJob, creds: { node_id: number; agent_token: string }): Promise<'reboot' | 'continue'>;
}

/** Something that happened in the loop (tests and the lab watch these). */
export type AgentEvent =
  | { type: 'registered'; node_id: number; facts_hash: string; complete: boolean }
  | { type: 'checkin'; command: AgentCommand }
  | { type: 'config'; config: AgentConfig }
  | { type: 'schedule'; delay_ms: number; reason: 'interval' | 'backoff' | 'start' }
  | { type: 'error'; error: string; attempt: number }
  | { type: 'bmc-enrol'; outcome: BmcEnrolOutcome['outcome']; state: string };

/** Loop settings; everything but client, token, inventory and hooks has a default. */
export interface AgentLoopOptions {
  client: ApplianceClient;
  /** Enrolment token from the kernel command line (crashcart.token). */
  token: string;
  /** Node id from the kernel command line (crashcart.node). */
  nodeId?: number;
  /** Agent and microkernel versions reported with every register (crashcart.mk on the kernel command line). */
  versions?: { agent?: string; microkernel?: string };
  /** Where facts come from (live tools, a replay folder, a lab profile). */
  inventory: () => Promise<Inventory>;
  /**
   * Register-first: the facts that identify and tag the machine, collected without the slow tools (lshw, BMC,
   * LLDP wait). When given, the first register sends these with `facts_complete: false` so the node shows at
   * once, and a second one right after sends the full inventory with `facts_complete: true`.
   */
  fastInventory?: () => Promise<Inventory>;
  hooks: AgentHooks;
  log: AgentLogger;
  random?: () => number;
  startDelayMaxMs?: number;
  /** Ignore the pushed interval (lab, tests, bench). */
  intervalOverrideMs?: number;
  /** Ignore the pushed skew (tests). */
  skewOverrideMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** 0 = collect facts before every check-in and keep no copy (the lab's profiles are cheap and shared). */
  factsMaxAgeMs?: number;
  /**
   * Check a pushed server_url against the URL the agent booted with (default on): another origin is refused
   * and reported; the agent never moves. false ignores server_url (the lab talks to loopback whatever the
   * appliance advertises).
   */
  followServerUrl?: boolean;
  onEvent?: (e: AgentEvent) => void;
  /**
   * In-band BMC enrolment, run when a check-in answer asks for it (`bmc_enrol`). Only the microkernel passes
   * one (ipmitool over KCS); without it the request is ignored (the simulated rack has no BMC to touch).
   */
  bmcEnrol?: () => Promise<BmcEnrolOutcome>;
}

/** Why run() returned. */
export type LoopExit = 'stopped' | 'reboot' | 'poweroff';

/** A snapshot of the loop for status pages and tests. */
export interface AgentStatus {
  state: 'starting' | 'registering' | 'running' | 'backoff' | 'rebooting' | 'powering-off' | 'stopped';
  node_id?: number;
  registered_hash?: string;
  config: AgentConfig;
  registers: number;
  checkins: number;
  failures: number;
  /** Pushed server_url values refused because they name another host (trust.ts). */
  config_refusals: number;
  last_error?: string;
}

/** One agent's loop. */
export class AgentLoop {
  private readonly ac = new AbortController();
  private readonly random: () => number;
  private config: AgentConfig = { ...INITIAL_CONFIG };
  private exclude: RegExp | null = null;
  private agentToken: string | undefined;
  private useEnrolToken = true;
  private nodeId: number | undefined;
  private registeredHash: string | undefined;
  /** The random wait before the first register (logged with it). */
  private startDelayMs = 0;
  /**
   * The register-first facts, collected beside the random wait before the first register (run): the wait still
   * spreads a rack's registers over time, but no longer adds to each machine's; taken by the first register.
   */
  private earlyFacts: Promise<{ inv: Inventory; ms: number }> | undefined;
  /** The last register carried the full inventory (always, without a fastInventory). */
  private complete: boolean;
  private cache: { inv: Inventory; at: number } | undefined;
  private st: AgentStatus;
  private readonly refusals = new ConfigRefusals();

  constructor(private readonly o: AgentLoopOptions) {
    this.random = o.random ?? Math.random;
    this.nodeId = o.nodeId;
    this.complete = !o.fastInventory;
    this.st = { state: 'starting', config: this.config, registers: 0, checkins: 0, failures: 0, config_refusals: 0 };
  }

  /** Current status (a copy). */
  status(): AgentStatus {
    return {
      ...this.st,
      node_id: this.nodeId,
      registered_hash: this.registeredHash,
      config: { ...this.config },
      config_refusals: this.refusals.total(),
    };
  }

  /** What a check-in needs once registered (the bench replays these as a load generator); undefined before. */
  credentials(): { node_id: number; agent_token: string; facts_hash: string } | undefined {
    if (this.nodeId === undefined || !this.agentToken || !this.registeredHash) return undefined;
    return { node_id: this.nodeId, agent_token: this.agentToken, facts_hash: this.registeredHash };
  }

  /** Stop at the next await; run() resolves with 'stopped'. */
  stop(): void {
    this.ac.abort();
  }

  private emit(e: AgentEvent): void {
    try {
      this.o.onEvent?.(e);
    } catch (err) {
      this.o.log.warn({ err: String(err) }, 'agent event handler threw');
    }
  }

  /** Sleep unless stopped; false when stopped. */
  private async sleep(ms: number, reason: 'interval' | 'backoff' | 'start'): Promise<boolean> {
    this.emit({ type: 'schedule', delay_ms: ms, reason });
    if (ms <= 0) return !this.ac.signal.aborted;
    try {
      await sleepTimer(ms, undefined, { signal: this.ac.signal });
      return true;
    } catch {
      return false;
    }
  }

  /** The wait until the next check-in: the interval plus a random skew of up to checkin_skew_s. */
  nextIntervalMs(): number {
    const base = this.o.intervalOverrideMs ?? this.config.checkin_interval_s * 1000;
    const skew = this.o.skewOverrideMs ?? this.config.checkin_skew_s * 1000;
    return Math.round(base + this.random() * skew);
  }

  /** Apply a pushed config; returns true when the exclusion pattern changed (facts hash may change). */
  private applyConfig(c: AgentConfig): boolean {
    const prev = this.config;
    this.config = { ...c };
    if (c.log_level !== prev.log_level) this.o.log.setLevel?.(c.log_level);
    // The agent stays with the appliance it booted with (kernel command line): an answer that points it
    // elsewhere is a MITM or a misconfiguration, refused and reported in the next check-in.
    if (this.o.followServerUrl !== false && c.server_url && !sameAppliance(this.o.client.baseUrl, c.server_url)) {
      const line = { booted: this.o.client.baseUrl, pushed: c.server_url.slice(0, 256), refusals: this.refusals.total() + 1 };
      // error level: a log_level pushed in the same answer cannot hide it.
      if (this.refusals.refuse(c.server_url))
        this.o.log.error(line, 'refused a pushed server_url on another host; keeping the appliance this machine booted with');
      else this.o.log.debug(line, 'refused the pushed server_url again');
    }
    const excludeChanged = c.facts_exclude_pattern !== prev.facts_exclude_pattern;
    if (excludeChanged) {
      const { re, error } = compileExclude(c.facts_exclude_pattern);
      if (error)
        this.o.log.warn({ pattern: c.facts_exclude_pattern }, `${error}; fix: correct facts_exclude_pattern in the appliance settings`);
      this.exclude = re;
    }
    if (c.checkin_interval_s !== prev.checkin_interval_s || excludeChanged || c.log_level !== prev.log_level)
      this.emit({ type: 'config', config: { ...c } });
    return excludeChanged;
  }

  private async inventory(): Promise<Inventory> {
    const maxAge = this.o.factsMaxAgeMs ?? DEFAULT_FACTS_MAX_AGE_MS;
    const now = Date.now();
    if (maxAge > 0 && this.cache && now - this.cache.at < maxAge) return this.cache.inv;
    const inv = await this.o.inventory();
    this.cache = maxAge > 0 ? { inv, at: now } : undefined;
    return inv;
  }

  private async register(): Promise<boolean> {
    this.st.state = 'registering';
    const t0 = performance.now();
    let facts: Promise<{ inv: Inventory; ms: number }>;
    if (this.complete) facts = this.timed(() => this.inventory());
    else {
      // Taken once: a failed collection is not awaited again by the retry.
      facts = this.earlyFacts ?? this.collectFast();
      this.earlyFacts = undefined;
    }
    const { inv, ms: factsMs } = await facts;
    // How long the facts took (their collection, which for the fast facts began with the start delay) and the whole
    // register from the end of that delay (docs/performance.md reads these off the console).
    const token = this.useEnrolToken || !this.agentToken ? this.o.token : this.agentToken;
    const { request, facts_hash } = buildRegisterRequest(inv, { token, nodeId: this.nodeId, versions: this.o.versions }, this.exclude);
    if (this.o.fastInventory) request.facts_complete = this.complete;
    try {
      const r = await this.o.client.register(request);
      this.nodeId = r.node_id;
      this.agentToken = r.agent_token;
      this.useEnrolToken = false;
      this.registeredHash = facts_hash;
      this.st.registers++;
      const timing = { facts_ms: factsMs, register_ms: Math.round(performance.now() - t0), start_delay_ms: this.startDelayMs };
      this.o.log.info({ node_id: r.node_id, facts_hash, complete: this.complete, ...timing }, 'registered');
      this.emit({ type: 'registered', node_id: r.node_id, facts_hash, complete: this.complete });
      return this.applyConfig(r.config);
    } catch (e) {
      // A rejected credential: try the other token next time (the agent token after a reboot, the enrolment token after a wipe).
      if (e instanceof ApplianceError && (e.status === 401 || e.status === 403) && this.agentToken)
        this.useEnrolToken = !this.useEnrolToken;
      throw e;
    }
  }

  /** Collect the register-first facts, timing the collection itself. */
  private collectFast(): Promise<{ inv: Inventory; ms: number }> {
    return this.timed(() => this.o.fastInventory!());
  }

  /** A collection of facts and how long it took, in ms. */
  private async timed(collect: () => Promise<Inventory>): Promise<{ inv: Inventory; ms: number }> {
    const t = performance.now();
    const inv = await collect();
    return { inv, ms: Math.round(performance.now() - t) };
  }

  /** Has the hash of what we would send changed since the last register? */
  private async factsChanged(): Promise<boolean> {
    const inv = await this.inventory();
    const { facts_hash } = buildRegisterRequest(inv, { token: this.o.token }, this.exclude);
    return facts_hash !== this.registeredHash;
  }

  /** Run until stopped or a reboot/poweroff command was carried out. */
  async run(): Promise<LoopExit> {
    const start = Math.round(this.random() * (this.o.startDelayMaxMs ?? DEFAULT_START_DELAY_MAX_MS));
    this.startDelayMs = start;
    // The fast facts are collected during the wait (0.4-0.6 s on an emulated CPU; the wait is at most 250 ms). A
    // failure is handled where the register takes them; the empty catch only keeps it from counting as unhandled
    // meanwhile.
    if (!this.complete && this.o.fastInventory && start > 0) {
      this.earlyFacts = this.collectFast();
      this.earlyFacts.catch(() => undefined);
    }
    if (!(await this.sleep(start, 'start'))) return this.finish('stopped');
    let needRegister = true;
    let first = true;
    let attempt = 0;
    while (!this.ac.signal.aborted) {
      try {
        let justRegistered = false;
        if (needRegister || !this.agentToken || (await this.factsChanged())) {
          let excludeChanged = await this.register();
          if (!this.complete) {
            // Register-first: the node is on the appliance; now the slow facts, sent at once (not at the interval).
            this.complete = true;
            excludeChanged = (await this.register()) || excludeChanged;
          }
          needRegister = false;
          justRegistered = true;
          // A new exclusion pattern changes what we send: register once more with it.
          if (excludeChanged && (await this.factsChanged())) await this.register();
        }
        const refused = this.refusals.report();
        const resp = await this.o.client.checkin({
          protocol: PROTOCOL_VERSION,
          node_id: this.nodeId!,
          agent_token: this.agentToken!,
          state: 'idle',
          facts_hash: this.registeredHash!,
          first_checkin: first,
          ...(refused ? { config_refused: refused } : {}),
        });
        if (refused) this.refusals.delivered();
        first = false;
        attempt = 0;
        this.st.checkins++;
        this.st.state = 'running';
        this.emit({ type: 'checkin', command: resp.command });
        if (this.applyConfig(resp.config)) needRegister = await this.factsChanged();
        if (resp.command === 'run-task' && resp.job && this.o.hooks.runTask) {
          const next = await this.o.hooks.runTask(resp.job, { node_id: this.nodeId!, agent_token: this.agentToken! });
          if (next === 'reboot') {
            this.st.state = 'rebooting';
            this.o.log.info({ node_id: this.nodeId }, 'task done; rebooting into the installed system');
            await this.o.hooks.reboot();
            return 'reboot';
          }
          continue;
        }
        if (resp.command === 'register') {
          needRegister = true;
          // Straight away, unless we registered a moment ago (then wait: no hot loop on a confused appliance).
          if (!justRegistered) continue;
        } else if (resp.command === 'reboot' || resp.command === 'poweroff') {
          this.st.state = resp.command === 'reboot' ? 'rebooting' : 'powering-off';
          this.o.log.info({ node_id: this.nodeId }, `appliance asked for ${resp.command}`);
          await (resp.command === 'reboot' ? this.o.hooks.reboot() : this.o.hooks.poweroff());
          return resp.command;
        }
        if (resp.bmc_enrol && this.o.bmcEnrol) await this.enrolBmc();
        if (!(await this.sleep(this.nextIntervalMs(), 'interval'))) break;
      } catch (e) {
        if (this.ac.signal.aborted) break;
        attempt++;
        this.st.failures++;
        this.st.state = 'backoff';
        const msg = e instanceof Error ? e.message : String(e);
        this.st.last_error = msg.slice(0, 500);
        if (e instanceof ApplianceError && e.kind === 'http' && (e.status === 401 || e.status === 403 || e.status === 404))
          needRegister = true;
        const fix = e instanceof ApplianceError && e.fix ? e.fix : undefined;
        this.emit({ type: 'error', error: this.st.last_error, attempt });
        let delay = backoffDelay(
          attempt,
          this.o.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS,
          this.o.backoffCapMs ?? DEFAULT_BACKOFF_CAP_MS,
          this.random,
        );
        // Honour Retry-After, capped (the client caps it too; a client built elsewhere may not).
        if (e instanceof ApplianceError && e.retryAfterMs !== undefined)
          delay = Math.max(delay, Math.min(e.retryAfterMs, MAX_RETRY_AFTER_MS));
        const line = { attempt, delay_ms: delay, fix };
        if (attempt === 1 || attempt % 10 === 0) this.o.log.warn(line, `appliance call failed, retrying: ${msg}`);
        else this.o.log.debug(line, `appliance call failed, retrying: ${msg}`);
        if (!(await this.sleep(delay, 'backoff'))) break;
      }
    }
    return this.finish('stopped');
  }

  /** Enrol the BMC and report it (the password is never logged); a failed report is retried at the next ask. */
  private async enrolBmc(): Promise<void> {
    const out = await this.o.bmcEnrol!();
    this.o.log.info(
      out.outcome === 'enrolled'
        ? { outcome: out.outcome, address: out.address, channel: out.channel, user_id: out.user_id, reused: out.reused }
        : { outcome: out.outcome, reason: out.reason },
      'in-band BMC enrolment',
    );
    const r = await this.o.client.bmcEnrol({ node_id: this.nodeId!, agent_token: this.agentToken!, ...out });
    this.emit({ type: 'bmc-enrol', outcome: out.outcome, state: r.state });
  }

  private finish(x: LoopExit): LoopExit {
    this.st.state = 'stopped';
    return x;
  }
}
