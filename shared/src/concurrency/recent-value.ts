/**
 * A value read from a server and reused while it is younger than `maxAgeMs`. Concurrent reads of
 * a stale value share one load, so a burst of callers costs one request.
 */
export class RecentValue<T> {
  private value: { value: T; at: number } | undefined;
  private loading: Promise<T> | undefined;

  constructor(
    private readonly maxAgeMs: number,
    private readonly load: () => Promise<T>,
  ) {}

  get(): Promise<T> {
    const cached = this.value;
    if (cached && Date.now() - cached.at < this.maxAgeMs) return Promise.resolve(cached.value);
    this.loading ??= this.load()
      .then((value) => {
        this.value = { value, at: Date.now() };
        return value;
      })
      .finally(() => (this.loading = undefined));
    return this.loading;
  }
}
