import type { Logger } from '@chorus/shared/logging/logger';
import { isStatus, type KubeClient, type WatchEvent } from '../kube/kube-client.js';
import { objectKey, type KubeObject } from '../kube/kube-object.js';
import type { ResourceKind } from '../kube/resource-kinds.js';

export type InformerEventType = 'add' | 'update' | 'delete';
export type InformerHandler<T> = (type: InformerEventType, obj: T, old?: T) => void;

export interface InformerOptions {
  /** Only this namespace; all namespaces when omitted. */
  namespace?: string;
  labelSelector?: string;
  /** The server ends each watch after this long (plus jitter); the informer then re-watches from where it was. */
  watchTimeoutSeconds?: number;
  logger?: Logger;
}

/** Counters for tests and metrics: a healthy informer lists once and restarts only on real errors. */
export interface InformerStats {
  lists: number;
  watches: number;
  /** Watches that ended with an error (connection reset, timeout, ...), followed by a backoff. */
  errors: number;
  /** 410 Gone: the resourceVersion was compacted away, so the informer listed again. */
  relists: number;
  lastEventAt: number;
}

class Gone extends Error {}

/**
 * A list+watch cache of one kind, like client-go's reflector + store. @kubernetes/client-node's
 * informer stops for good on an error, so this one owns its loop: list, then watch from the
 * list's resourceVersion; when a watch ends it watches again from the last resourceVersion seen
 * (bookmarks keep that fresh); on an error it backs off exponentially and retries; on 410 Gone it
 * lists again and emits the differences. Handlers see every add, update and delete.
 */
export class Informer<T extends KubeObject = KubeObject> {
  readonly cache = new Map<string, T>();
  readonly stats: InformerStats = { lists: 0, watches: 0, errors: 0, relists: 0, lastEventAt: 0 };
  private readonly handlers: InformerHandler<T>[] = [];
  private stopped = false;
  private abort: AbortController | undefined;
  private wake: (() => void) | undefined;
  private resolveSynced!: () => void;
  /** Resolves after the first successful list. */
  readonly synced = new Promise<void>((resolve) => (this.resolveSynced = resolve));
  private hasSyncedOnce = false;
  private running: Promise<void> | undefined;
  /** The newest resourceVersion this informer has seen, kept when a watch fails mid-stream. */
  private reached: string | undefined;

  constructor(
    private readonly client: Pick<KubeClient, 'list' | 'watch'>,
    readonly kind: ResourceKind<T>,
    private readonly options: InformerOptions = {},
  ) {}

  get hasSynced(): boolean {
    return this.hasSyncedOnce;
  }

  on(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
    await this.running;
  }

  get(namespace: string, name: string): T | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  private async run(): Promise<void> {
    let resourceVersion: string | undefined;
    let backoffMs = 500;
    while (!this.stopped) {
      try {
        if (resourceVersion === undefined) {
          const list = await this.client.list<T>(this.kind, this.options.namespace, {
            ...(this.options.labelSelector && { labelSelector: this.options.labelSelector }),
          });
          this.stats.lists++;
          this.replace(list.items);
          resourceVersion = list.resourceVersion;
          this.reached = resourceVersion;
          if (!this.hasSyncedOnce) {
            this.hasSyncedOnce = true;
            this.resolveSynced();
          }
        }
        const started = Date.now();
        resourceVersion = await this.watch(resourceVersion);
        backoffMs = 500;
        // A watch that ends at once without error would spin; pace it.
        if (Date.now() - started < 1000) await this.sleep(1000);
      } catch (error) {
        if (this.stopped) break;
        if (error instanceof Gone || isStatus(error, 410)) {
          this.stats.relists++;
          this.options.logger?.info({ kind: this.kind.kind }, 'watch resourceVersion expired (410); listing again');
          resourceVersion = undefined;
          this.reached = undefined;
          continue;
        }
        // A watch that failed part-way delivered events up to `reached`: watch again from there,
        // not from where it began (which would replay them, or be compacted away sooner).
        if (resourceVersion !== undefined && this.reached !== undefined) resourceVersion = this.reached;
        this.stats.errors++;
        this.options.logger?.warn({ kind: this.kind.kind, err: String(error), backoffMs }, 'list/watch failed; retrying');
        await this.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 30_000);
      }
    }
  }

  /** One watch from `resourceVersion`; resolves with the last resourceVersion seen when it ends. */
  private async watch(resourceVersion: string): Promise<string> {
    const timeoutSeconds = Math.round((this.options.watchTimeoutSeconds ?? 300) * (1 + Math.random() * 0.2));
    let last = resourceVersion;
    let gone = false;
    this.abort = new AbortController();
    this.stats.watches++;
    const onEvent = (event: WatchEvent<T>) => {
      if (event.type === 'ERROR') {
        if (event.object.code === 410) gone = true;
        else this.options.logger?.warn({ kind: this.kind.kind, status: event.object }, 'watch error event');
        this.abort?.abort();
        return;
      }
      const rv = event.object.metadata?.resourceVersion;
      if (rv) {
        last = rv;
        this.reached = rv;
      }
      if (event.type === 'BOOKMARK') return;
      this.stats.lastEventAt = Date.now();
      const item = { ...event.object, apiVersion: this.kind.apiVersion, kind: this.kind.kind };
      const key = objectKey(item);
      const old = this.cache.get(key);
      if (event.type === 'DELETED') {
        this.cache.delete(key);
        this.emit('delete', item, old);
      } else {
        this.cache.set(key, item);
        this.emit(old ? 'update' : 'add', item, old);
      }
    };
    await this.client.watch(
      this.kind,
      this.options.namespace,
      {
        resourceVersion,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(timeoutSeconds),
        labelSelector: this.options.labelSelector,
      },
      onEvent,
      // Bookmarks arrive about once a minute on a quiet watch; allow for that and the server's own timeout.
      { signal: this.abort.signal, idleTimeoutMs: (timeoutSeconds + 30) * 1000 },
    );
    if (gone) throw new Gone();
    return last;
  }

  /** After a (re)list: emit what changed relative to the cache, then adopt the list. */
  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      const key = objectKey(item);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, item);
      if (!old) this.emit('add', item);
      else if (old.metadata.resourceVersion !== item.metadata.resourceVersion) this.emit('update', item, old);
    }
    for (const [key, old] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit('delete', old, old);
      }
    }
  }

  private emit(type: InformerEventType, obj: T, old?: T): void {
    for (const handler of this.handlers) {
      try {
        handler(type, obj, old);
      } catch (error) {
        this.options.logger?.error({ err: String(error) }, 'informer handler threw');
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
