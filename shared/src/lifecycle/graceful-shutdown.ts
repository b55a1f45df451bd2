import type { Logger } from '../logging/logger.js';

/**
 * On SIGTERM or SIGINT: run `close` once (finish in-flight work, flush telemetry), then exit 0;
 * exit 1 if it fails or takes longer than `timeoutMs` (Kubernetes kills the pod soon after anyway).
 */
export function exitGracefullyOnSignals(log: Logger, close: () => Promise<void>, timeoutMs = 20_000): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    try {
      log.info({ signal }, 'shutting down');
    } catch {
      // stdout is gone (see below); shutting down matters more than saying so
    }
    // Exit whatever logging does: with the parent gone, stdout may be a broken pipe that throws.
    const exitAfter = (code: number, last: () => void) => {
      try {
        last();
      } finally {
        process.exit(code);
      }
    };
    const timer = setTimeout(() => exitAfter(1, () => log.error('shutdown timed out')), timeoutMs);
    timer.unref();
    close().then(
      () => exitAfter(0, () => {}),
      (error: unknown) => exitAfter(1, () => log.error({ err: error }, 'shutdown failed')),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Started by the local supervisor or a test: stdin is a pipe from the parent, and its end means
  // the parent is gone (even after a SIGKILL), so shut down instead of living on as an orphan.
  if (process.env.CHORUS_EXIT_WITH_PARENT === '1') {
    process.stdin.on('end', () => stop('SIGTERM')).on('error', () => stop('SIGTERM'));
    process.stdin.resume();
  }
}

/** For a service's main(): a start-up failure (bad env, unreachable dependency) as one line, exit 1. */
export function exitOnStartFailure(service: string, error: unknown): never {
  // pino may not exist yet (bad env): plain stderr keeps the reason visible.
  console.error(`${service}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
