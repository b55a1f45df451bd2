import cliProgress from 'cli-progress';
import type { LiveStats, ProgressReporter } from './progress-reporter.js';

/** A progress bar with the current rates, for an interactive terminal (cli-progress). */
export class TerminalProgress implements ProgressReporter {
  private readonly bar = new cliProgress.SingleBar(
    {
      format:
        '{phase} |{bar}| {value}/{total} | conns {connected} | sent {sent}/s acked {acked}/s delivered {delivered}/s | p99 {p99} ms | errors {errors}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  private started = false;
  private name = '';

  phase(name: string, total: number): void {
    if (this.started && name === this.name) {
      this.bar.setTotal(total);
      return;
    }
    this.name = name;
    if (this.started) this.bar.stop();
    this.bar.start(Math.max(total, 1), 0, { phase: name.padEnd(7), ...payload(undefined) });
    this.started = true;
  }

  update(done: number, stats: LiveStats): void {
    if (this.started) this.bar.update(done, { phase: this.name.padEnd(7), ...payload(stats) });
  }

  log(line: string): void {
    // cli-progress redraws on the next update; write above it.
    process.stderr.write(`\r\x1b[K${line}\n`);
  }

  stop(): void {
    if (this.started) this.bar.stop();
    this.started = false;
  }
}

function payload(stats: LiveStats | undefined): Record<string, string | number> {
  return {
    connected: stats?.connected ?? 0,
    sent: Math.round(stats?.sentPerSec ?? 0),
    acked: Math.round(stats?.ackedPerSec ?? 0),
    delivered: Math.round(stats?.deliveredPerSec ?? 0),
    p99: (stats?.deliveryP99Ms ?? 0).toFixed(1),
    errors: stats?.errors ?? 0,
  };
}
