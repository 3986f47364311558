/**
 * The server core as a child process: it holds the network capabilities, Electron never
 * runs as root. Starts `node bin/crashcart.mjs serve`, watches its output for the admin URL
 * and for bind failures, and keeps the last lines for the operator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ServerChildState } from '../contract/ipc.ts';
import { PRIVILEGE_ERRORS, privilegeFix, readServerLine, type ServerOutputFacts, type ServerStream } from './server-output.ts';

/** How to start the child. */
export interface ServerChildOptions {
  /** The node binary (a private copy carries the capabilities, see privilegeFix). */
  nodePath: string;
  /** Path of bin/crashcart.mjs. */
  entry: string;
  /** Arguments after `serve`. */
  serveArgs: string[];
  /** Extra environment (e.g. ELECTRON_RUN_AS_NODE when nodePath is Electron itself). */
  env?: NodeJS.ProcessEnv;
  /** How many stderr/stdout lines to keep. */
  keepLines?: number;
}

/** One running (or finished) server child. */
export class ServerChild {
  private child: ChildProcess | null = null;
  private facts: ServerOutputFacts = { url: null, errorCode: null, serverFix: null, fingerprint: null };
  private log: string[] = [];
  private state: ServerChildState['state'] = 'starting';
  private listeners = new Set<(s: ServerChildState) => void>();
  /** Set by stop(): the exit that follows is asked for, not a failure. */
  private stopping = false;

  constructor(private readonly opts: ServerChildOptions) {}

  /** Start the child; resolves with the state once the URL is printed or the child exits. */
  start(): Promise<ServerChildState> {
    this.facts = { url: null, errorCode: null, serverFix: null, fingerprint: null };
    this.log = [];
    this.state = 'starting';
    this.stopping = false;
    const args = [this.opts.entry, 'serve', ...this.opts.serveArgs];
    const child = spawn(this.opts.nodePath, args, { env: { ...process.env, ...this.opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (): void => {
        if (!settled && (this.state !== 'starting' || this.facts.url)) {
          settled = true;
          resolve(this.snapshot());
        }
      };
      const onLine = (stream: ServerStream, line: string): void => {
        this.log.push(line);
        const keep = this.opts.keepLines ?? 40;
        if (this.log.length > keep) this.log.splice(0, this.log.length - keep);
        this.facts = readServerLine(this.facts, line, stream);
        if (this.facts.url && this.state === 'starting') this.state = 'running';
        this.emit();
        settle();
      };
      // The URL and fingerprint are read from stdout only; stderr is the log too, where rack text lands.
      if (child.stdout) createInterface({ input: child.stdout }).on('line', (l: string) => onLine('stdout', l));
      if (child.stderr) createInterface({ input: child.stderr }).on('line', (l: string) => onLine('stderr', l));
      child.on('error', (e) => {
        this.log.push(`cannot start ${this.opts.nodePath}: ${e.message}`);
        this.state = 'failed';
        this.emit();
        settle();
      });
      child.on('exit', (code) => {
        // Let readline deliver the last lines (the error and its fix) before deciding.
        setImmediate(() => {
          this.state = this.stopping || (code === 0 && !this.facts.errorCode) ? 'exited' : 'failed';
          this.child = null;
          this.emit();
          settle();
        });
      });
    });
  }

  /** Stop the child (SIGTERM, then SIGKILL after a grace period). */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.stopping = true;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
      // Never hang the caller (app quit, a test's cleanup) on a child that will not report.
      const giveUp = setTimeout(done, graceMs + 3000);
      function done(): void {
        clearTimeout(kill);
        clearTimeout(giveUp);
        resolve();
      }
      child.once('exit', done);
      if (!child.kill('SIGTERM')) done();
    });
  }

  /** Fingerprint of the admin certificate the child printed (HTTPS only), to pin. */
  get fingerprint(): string | null {
    return this.facts.fingerprint;
  }

  /** Process id of the running child, if any. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Subscribe to state changes. */
  onChange(fn: (s: ServerChildState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The state as the IPC contract describes it. */
  snapshot(): ServerChildState {
    const code = this.facts.errorCode;
    const fix =
      code && PRIVILEGE_ERRORS.has(code)
        ? privilegeFix(this.opts.nodePath, [this.opts.entry, 'serve', ...this.opts.serveArgs])
        : this.facts.serverFix;
    return { state: this.state, url: this.facts.url, errorCode: code, fix, log: [...this.log] };
  }

  private emit(): void {
    const s = this.snapshot();
    for (const fn of this.listeners) fn(s);
  }
}
