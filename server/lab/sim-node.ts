/**
 * One simulated machine: network-boots like iPXE (GET /boot.ipxe, expand,
 * GET /boot), runs the REAL agent loop when it gets the microkernel, reports
 * install stages when it gets a task script, and boots from "disk" when told to.
 */
import { setTimeout as sleepTimer } from 'node:timers/promises';
import type { Inventory } from '../../contract/node.ts';
import { AgentLoop, type AgentLoopOptions } from '../../agent/loop/agent-loop.ts';
import { AGENT_VERSION } from '../../agent/version.ts';
import { ApplianceClient, type ClientOptions } from '../../agent/loop/client.ts';
import { backoffDelay } from '../../agent/loop/backoff.ts';
import type { AgentLogger } from '../../agent/loop/logger.ts';
import { classifyBootScript, expandIpxe, rebase, type IpxeVars } from './ipxe-sim.ts';

/** What a simulated node shows in the lab's list. */
export type SimState = 'off' | 'pxe' | 'microkernel' | 'registered' | 'backoff' | 'installing' | 'installed' | 'poweroff' | 'error';

/** Delays of the simulation (tests shorten them). */
export interface SimTiming {
  /** Agent start delay upper bound (Hanlon: up to 5 s). */
  agentStartDelayMaxMs: number;
  /** Time a "reboot" takes before the node PXE-boots again. */
  rebootMs: number;
  /** Time between task stages (installing -> installed). */
  stageDelayMs: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Check-in interval override (undefined = the appliance's). */
  intervalOverrideMs?: number;
  skewOverrideMs?: number;
}

/** Most boot hops a script chain may take before the node gives up on it (iPXE loops otherwise). */
const MAX_CHAIN_HOPS = 8;

/** A simulated machine. */
export class SimNode {
  state: SimState = 'off';
  registrations = 0;
  lastError: string | undefined;
  private loop: AgentLoop | undefined;
  private readonly ac = new AbortController();
  private readonly client: ApplianceClient;

  constructor(
    readonly index: number,
    readonly vars: IpxeVars,
    private readonly inventory: () => Inventory,
    private readonly baseUrl: string,
    private readonly timing: SimTiming,
    private readonly log: AgentLogger,
    clientOpts: ClientOptions,
    private readonly random: () => number,
  ) {
    this.client = new ApplianceClient(baseUrl, clientOpts);
  }

  /** Check-in credentials while the microkernel runs and is registered. */
  credentials(): ReturnType<AgentLoop['credentials']> {
    return this.loop?.credentials();
  }

  /** The agent loop's status while the microkernel runs. */
  agentStatus(): ReturnType<AgentLoop['status']> | undefined {
    return this.loop?.status();
  }

  /** Power off for good (stop the lab). */
  stop(): void {
    this.ac.abort();
    this.loop?.stop();
  }

  private async sleep(ms: number): Promise<boolean> {
    try {
      await sleepTimer(ms, undefined, { signal: this.ac.signal });
      return true;
    } catch {
      return false;
    }
  }

  /** Power on after `delayMs`, then boot until stopped or powered off. */
  async run(delayMs: number): Promise<void> {
    try {
      await this.power(delayMs);
    } finally {
      // Stopped by the lab: the machine is off, whatever it was doing.
      if (this.ac.signal.aborted) this.state = 'off';
    }
  }

  private async power(delayMs: number): Promise<void> {
    if (!(await this.sleep(delayMs))) return;
    let attempt = 0;
    while (!this.ac.signal.aborted) {
      try {
        const next = await this.bootOnce();
        attempt = 0;
        if (next === 'halt') return;
        if (!(await this.sleep(this.timing.rebootMs))) return;
      } catch (e) {
        if (this.ac.signal.aborted) return;
        attempt++;
        this.state = 'backoff';
        this.lastError = e instanceof Error ? e.message : String(e);
        if (attempt === 1) this.log.debug({ node: this.index, err: this.lastError }, 'lab node boot failed; retrying');
        // iPXE scripts retry with a delay; do the same with back-off so a down appliance is not hammered.
        if (!(await this.sleep(backoffDelay(attempt, this.timing.backoffBaseMs, this.timing.backoffCapMs, this.random)))) return;
      }
    }
  }

  /** One power-on: returns 'reboot' to boot again or 'halt' to stay put. */
  private async bootOnce(): Promise<'reboot' | 'halt'> {
    this.state = 'pxe';
    let script = await this.client.getText('/boot.ipxe');
    for (let hop = 0; hop < MAX_CHAIN_HOPS; hop++) {
      const d = classifyBootScript(script);
      switch (d.kind) {
        case 'chain':
          script = await this.client.getText(rebase(expandIpxe(d.url, this.vars), this.baseUrl));
          continue;
        case 'microkernel':
          return this.runMicrokernel(d.token, d.nodeId, d.microkernel);
        case 'task':
          return this.install(rebase(d.stageUrl, this.baseUrl));
        case 'local':
          this.state = 'installed';
          return 'halt';
        case 'unknown':
          throw new Error(`boot script not understood: ${d.reason}`);
      }
    }
    throw new Error(`more than ${MAX_CHAIN_HOPS} chained boot scripts`);
  }

  private async runMicrokernel(token: string, nodeId: number | undefined, microkernel?: string): Promise<'reboot' | 'halt'> {
    this.state = 'microkernel';
    const opts: AgentLoopOptions = {
      client: this.client,
      token,
      nodeId,
      // The simulated agent is this appliance's own agent code, in the image the boot script named.
      versions: { agent: AGENT_VERSION, microkernel },
      inventory: async () => this.inventory(),
      hooks: { reboot: () => undefined, poweroff: () => undefined },
      log: this.log,
      random: this.random,
      startDelayMaxMs: this.timing.agentStartDelayMaxMs,
      intervalOverrideMs: this.timing.intervalOverrideMs,
      skewOverrideMs: this.timing.skewOverrideMs,
      backoffBaseMs: this.timing.backoffBaseMs,
      backoffCapMs: this.timing.backoffCapMs,
      factsMaxAgeMs: 0,
      followServerUrl: false,
      onEvent: (e) => {
        if (e.type === 'registered') this.registrations++;
        if (e.type === 'checkin' || e.type === 'registered') this.state = 'registered';
        else if (e.type === 'error') {
          this.state = 'backoff';
          this.lastError = e.error;
        }
      },
    };
    this.loop = new AgentLoop(opts);
    const exit = await this.loop.run();
    this.loop = undefined;
    if (exit === 'poweroff') {
      this.state = 'poweroff';
      return 'halt';
    }
    return exit === 'reboot' ? 'reboot' : 'halt';
  }

  /** The task "installs": report the stages the real installer would, then reboot into the local disk. */
  private async install(stageUrl: string): Promise<'reboot' | 'halt'> {
    this.state = 'installing';
    for (const name of ['installing', 'installed'] as const) {
      if (!(await this.sleep(this.timing.stageDelayMs))) return 'halt';
      await this.client.getText(`${stageUrl}&name=${name}`);
    }
    this.state = 'installed';
    return 'reboot';
  }
}
