import type { LiveStats, ProgressReporter } from './progress-reporter.js';

/** Plain progress lines at a fixed interval, for logs and CI (no terminal control codes). */
export class LineProgress implements ProgressReporter {
  private name = '';
  private total = 0;
  private lastLine = 0;

  constructor(
    private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    private readonly intervalMs = 5000,
  ) {}

  phase(name: string, total: number): void {
    if (name !== this.name) {
      this.write(`[loadtest] phase ${name} (${total})`);
      this.lastLine = Date.now();
    }
    this.name = name;
    this.total = total;
  }

  update(done: number, stats: LiveStats): void {
    const now = Date.now();
    if (now - this.lastLine < this.intervalMs) return;
    this.lastLine = now;
    this.write(
      `[loadtest] ${this.name} ${done}/${this.total} conns=${stats.connected} sent/s=${Math.round(stats.sentPerSec)} ` +
        `acked/s=${Math.round(stats.ackedPerSec)} delivered/s=${Math.round(stats.deliveredPerSec)} ` +
        `p99=${stats.deliveryP99Ms.toFixed(1)}ms errors=${stats.errors}`,
    );
  }

  log(line: string): void {
    this.write(line);
  }

  stop(): void {}
}
