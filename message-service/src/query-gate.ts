/**
 * Guards the database from bursts of identical or too many read queries. Every gateway that sees
 * the same gap in a room asks for the same history page at about the same time; identical
 * requests in flight share one query, and at most `maxConcurrent` distinct queries run at once
 * per replica, so reads cannot crowd out the batch writes.
 */
export class QueryGate {
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly maxConcurrent: number) {}

  run<T>(key: string, query: () => Promise<T>): Promise<T> {
    const shared = this.inFlight.get(key);
    if (shared) return shared as Promise<T>;
    const result = this.limited(query).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, result);
    return result;
  }

  private async limited<T>(query: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await query();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
