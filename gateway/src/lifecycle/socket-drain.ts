import { waitAtMost } from '@chorus/shared/concurrency/wait-at-most';
import type { Logger } from '@chorus/shared/logging/logger';

/** How a gateway moves its clients away when it shuts down (SIGTERM); docs/protocol.md "Draining". */
export interface DrainSettings {
  /** Each socket is told to reconnect after a delay drawn uniformly from [0, windowMs]. */
  windowMs: number;
  /** A socket still open this long after its delay is closed by the gateway (1012), once its sends are answered. */
  graceMs: number;
  /** The socket drain ends by then, whatever is left; the rest of the shutdown follows. */
  timeoutMs: number;
}

/** A gateway process's defaults (DRAIN_WINDOW_MS, DRAIN_TIMEOUT_MS in main.ts). */
export const defaultDrainSettings: DrainSettings = { windowMs: 10_000, graceMs: 2_000, timeoutMs: 25_000 };

/** startGateway without drain settings (tests, embedding): every socket closed as soon as its sends are answered. */
export const immediateDrain: DrainSettings = { windowMs: 0, graceMs: 0, timeoutMs: 5_000 };

/** What the drain needs of one client connection. */
export interface DrainableConnection {
  /** Sends the `reconnect` frame with this delay. */
  announceReconnect(afterMs: number): void;
  /** Refuses new frames, waits (until `deadline`, a performance.now() time) for the ones being answered, then closes with 1012. */
  closeAfterAnswers(deadline: number): Promise<void>;
}

export interface DrainOutcome {
  /** Sockets told to reconnect. */
  announced: number;
  /** Sockets still open when the drain's time was up. */
  leftOpen: number;
  ms: number;
}

/**
 * Tells every socket to reconnect elsewhere after its own jittered delay, closes the ones that
 * stay past their delay plus the grace, and resolves when all are gone or the timeout is reached.
 * The delays are spread so that the gateways that take the clients over see a bounded reconnect
 * rate (about sockets / windowMs), not every client in the same instant.
 */
export async function drainSockets(
  sockets: ReadonlySet<DrainableConnection>,
  allClosed: Promise<void>,
  settings: DrainSettings,
  log: Logger,
  random: () => number = Math.random,
): Promise<DrainOutcome> {
  const start = performance.now();
  const deadline = start + settings.timeoutMs;
  const timers: NodeJS.Timeout[] = [];
  const announced = sockets.size;
  log.info({ sockets: announced, windowMs: settings.windowMs, timeoutMs: settings.timeoutMs }, 'draining: clients told to reconnect elsewhere');
  for (const connection of sockets) {
    const afterMs = Math.round(random() * settings.windowMs);
    connection.announceReconnect(afterMs);
    timers.push(setTimeout(() => void connection.closeAfterAnswers(deadline).catch(() => {}), afterMs + settings.graceMs));
  }
  await waitAtMost(allClosed, settings.timeoutMs);
  for (const timer of timers) clearTimeout(timer);
  const outcome = { announced, leftOpen: sockets.size, ms: Math.round(performance.now() - start) };
  if (outcome.leftOpen > 0) log.warn(outcome, 'drain timed out; closing the sockets left');
  else log.info(outcome, 'drained: every client left');
  return outcome;
}
