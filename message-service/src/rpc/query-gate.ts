import { RpcError } from './rpc-error.js';

/**
 * Guards the database from bursts of identical or too many read queries. Identical requests in
 * flight share one query; at most `maxConcurrent` distinct queries run at once per replica, so
 * reads cannot crowd out the batch writes; at most `maxWaiting` wait, and beyond that a request is
 * shed at once with `unavailable` (the caller retries, perhaps on another replica). A request
 * whose caller's deadline has passed by its turn is dropped without touching the database.
 */
export class QueryGate {
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly maxConcurrent: number,
    private readonly maxWaiting = 256,
  ) {}

  run<T>(key: string, query: () => Promise<T>, deadline = Number.POSITIVE_INFINITY): Promise<T> {
    const shared = this.inFlight.get(key);
    if (shared) return shared as Promise<T>;
    const result = this.limited(query, deadline).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, result);
    return result;
  }

  get queued(): number {
    return this.waiting.length;
  }

  private async limited<T>(query: () => Promise<T>, deadline: number): Promise<T> {
    if (this.running >= this.maxConcurrent) {
      if (this.waiting.length >= this.maxWaiting) throw new RpcError('unavailable', 'the message service is busy; try again');
      // The finishing query hands its slot over: `running` stays counted for us.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      if (Date.now() > deadline) throw new RpcError('unavailable', 'the request waited past its deadline');
      return await query();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
