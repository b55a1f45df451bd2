import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { connect } from 'node:net';

export interface ManagedProcessOptions {
  /** Short name for logs and errors. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /**
   * Starts the child some other way than spawn(command, args), e.g. as a cluster worker; it must
   * pipe stdin, stdout and stderr as spawn does here.
   */
  spawn?: (env: NodeJS.ProcessEnv) => ChildProcess;
  cwd?: string;
  /** stdout and stderr go here (appended); otherwise they are discarded. */
  logFile?: string;
  /** Resolves when the process is ready to serve; rejects or times out otherwise. */
  ready: () => Promise<void>;
  readyTimeoutMs?: number;
}

/** How a process ended: `requested` when stop() asked for it, false for a crash or kill. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  requested: boolean;
  /** How long it ran, from spawn to exit. */
  ranMs: number;
}

/**
 * A child process we started and must stop: waits for readiness, reports an early exit with the
 * tail of its output, and on stop sends SIGTERM, then SIGKILL after a grace period.
 */
export class ManagedProcess {
  readonly name: string;
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private tail: string[] = [];
  private stopRequested = false;
  private readonly exitListeners: ((exit: ProcessExit) => void)[] = [];

  constructor(private readonly options: ManagedProcessOptions) {
    this.name = options.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Called on every exit of every run of this process (a supervisor restarts crashed ones). */
  onExit(listener: (exit: ProcessExit) => void): void {
    this.exitListeners.push(listener);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const { command, args, env, cwd, logFile } = this.options;
    this.stopRequested = false;
    const spawnedAt = Date.now();
    // stdin is a pipe that stays open while we live: our own services exit when it closes
    // (CHORUS_EXIT_WITH_PARENT), so even a SIGKILLed parent leaves no orphans behind.
    const childEnv = { ...(env ?? process.env), CHORUS_EXIT_WITH_PARENT: '1' };
    const child = this.options.spawn ? this.options.spawn(childEnv) : spawn(command, args, { env: childEnv, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stdin?.on('error', () => {});
    running.add(child);
    child.once('exit', () => running.delete(child));
    let log: NodeJS.WritableStream | undefined;
    if (logFile) {
      mkdirSync(dirname(logFile), { recursive: true });
      log = createWriteStream(logFile, { flags: 'a' });
    }
    const keep = (chunk: Buffer) => {
      log?.write(chunk);
      this.tail.push(chunk.toString());
      if (this.tail.length > 40) this.tail.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        resolve(code);
        const exit = { code, signal, requested: this.stopRequested, ranMs: Date.now() - spawnedAt };
        for (const listener of this.exitListeners) listener(exit);
      }),
    );
    const timeoutMs = this.options.readyTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const failure = new Promise<never>((_, reject) => {
      this.exited!.then((code) => reject(new Error(`${this.name} exited with ${code} before it was ready:\n${this.output()}`)));
      timer = setTimeout(() => reject(new Error(`${this.name} was not ready within ${timeoutMs} ms:\n${this.output()}`)), timeoutMs);
    });
    try {
      await Promise.race([this.poll(), failure]);
    } catch (error) {
      await this.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last lines the process printed, for error messages. */
  output(): string {
    return this.tail.join('').split('\n').slice(-25).join('\n');
  }

  private async poll(): Promise<void> {
    for (;;) {
      if (this.child?.exitCode !== null) return new Promise(() => {}); // the failure branch reports it
      try {
        await this.options.ready();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Resolves with the exit code when the process ends by itself. */
  whenExited(): Promise<number | null> {
    return this.exited ?? Promise.resolve(null);
  }

  /** Sends a signal and returns at once (SIGSTOP / SIGCONT to pause and resume it, for fault injection). */
  signal(signal: NodeJS.Signals): void {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) throw new Error(`${this.name} is not running`);
    child.kill(signal);
  }

  /** Ends the process at once, as a crash would (no chance to clean up). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  async stop(graceMs = 5_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.stopRequested = true;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(killer);
  }
}

/** Every child still running; killed when this process exits, however it exits normally. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Readiness check: something accepts TCP connections on 127.0.0.1:port. */
export function tcpReady(port: number): () => Promise<void> {
  return () =>
    new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', reject);
    });
}

/** Readiness check: GET http://127.0.0.1:port/path answers 2xx. */
export function httpReady(port: number, path: string): () => Promise<void> {
  return async () => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
  };
}
