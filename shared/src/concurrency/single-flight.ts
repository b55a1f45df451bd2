/**
 * Coalesces concurrent calls for the same key into one: while a call for `key` is in flight, later
 * callers get the same promise. A burst of sends to a room whose cache is cold then makes one
 * backend request, not one per message.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, fn: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const promise = fn().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }
}
