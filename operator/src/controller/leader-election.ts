import type { Logger } from '@chorus/shared/logging/logger';
import { isStatus, type KubeClient } from '../kube/kube-client.js';
import type { Lease } from '../kube/object-types.js';
import { kinds } from '../kube/resource-kinds.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  /** Unique per replica, e.g. the pod name. */
  identity: string;
  /** A leader that has not renewed for this long is considered gone. */
  leaseDurationMs?: number;
  /** The leader gives up if it could not renew within this long (must be < leaseDuration). */
  renewDeadlineMs?: number;
  /** How often candidates try and the leader renews. */
  retryPeriodMs?: number;
  logger?: Logger;
}

/** RFC 3339 with microseconds, the format Lease.spec.renewTime (MicroTime) requires. */
function microTime(date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, like client-go's leaderelection: candidates
 * take the Lease when it is free or expired, the leader renews it every retryPeriod, and every
 * write carries the resourceVersion it read, so two candidates can never both win (the loser
 * gets 409 Conflict). A leader that cannot renew before renewDeadline steps down; on a clean
 * stop the leader releases the Lease so a standby takes over at once.
 */
export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  /** The tick whose lease request is under way, if any: stop() waits for it before releasing. */
  private inFlight: Promise<void> | undefined;
  private lastRenew = 0;
  private observed: { holder?: string; renewTime?: string; seenAt: number } = { seenAt: 0 };
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly started: (() => void)[] = [];
  private readonly stoppedLeading: (() => void)[] = [];

  constructor(
    private readonly client: Pick<KubeClient, 'get' | 'create' | 'replace'>,
    private readonly options: LeaderElectionOptions,
  ) {
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  onStartedLeading(fn: () => void): void {
    this.started.push(fn);
  }

  onStoppedLeading(fn: () => void): void {
    this.stoppedLeading.push(fn);
  }

  start(): void {
    this.runTick();
  }

  /** Stop campaigning; a leader releases the Lease (holderIdentity cleared) so another takes over now. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // A renewal under way would otherwise land after the release's read and make its write a
    // conflict: the Lease would stay held until it expired.
    await this.inFlight;
    if (!this.leading) return;
    this.leading = false;
    try {
      // A conflict means the record changed since it was read (the write carries resourceVersion): read again.
      for (let attempt = 1; ; attempt++) {
        const lease = await this.client.get(kinds.Lease, this.options.namespace, this.options.name);
        if (lease?.spec?.holderIdentity !== this.options.identity) return;
        try {
          await this.client.replace<Lease>({
            ...lease,
            spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime() },
          });
          return;
        } catch (error) {
          if (!isStatus(error, 409) || attempt >= 3) throw error;
        }
      }
    } catch (error) {
      this.options.logger?.warn({ err: String(error) }, 'could not release the lease');
    }
  }

  private runTick(): void {
    const tick = this.tick();
    this.inFlight = tick;
    void tick.finally(() => {
      if (this.inFlight === tick) this.inFlight = undefined;
    });
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let ok = false;
    try {
      // A leader's renewal must end by its renew deadline, whatever the client's own timeout: a
      // request hanging past it would keep a leader that may already have lost the lease.
      const budgetMs = this.leading ? Math.max(0, this.lastRenew + this.renewDeadlineMs - Date.now()) : this.renewDeadlineMs;
      ok = await withDeadline(this.tryAcquireOrRenew(), budgetMs);
    } catch (error) {
      this.options.logger?.warn({ err: String(error) }, 'leader election: lease request failed');
    }
    const now = Date.now();
    if (ok) {
      this.lastRenew = now;
      if (!this.leading) {
        this.leading = true;
        // Acquired while stopping: stop() releases it; nothing starts.
        if (!this.stopped) {
          this.options.logger?.info({ identity: this.options.identity, lease: this.options.name }, 'became leader');
          for (const fn of this.started) fn();
        }
      }
    } else if (this.leading && now - this.lastRenew > this.renewDeadlineMs) {
      this.leading = false;
      this.options.logger?.error({ identity: this.options.identity }, 'lost leadership (could not renew the lease)');
      for (const fn of this.stoppedLeading) fn();
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => this.runTick(), this.retryPeriodMs);
      this.timer.unref();
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const now = new Date();
    const leaseDurationSeconds = Math.max(1, Math.round(this.leaseDurationMs / 1000));
    const lease = await this.client.get(kinds.Lease, namespace, name);
    if (!lease) {
      try {
        await this.client.create<Lease>({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      } catch (error) {
        if (isStatus(error, 409)) return false;
        throw error;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    // Expiry is judged on our own clock from when we last saw the record change (as client-go
    // does), so clock skew between replicas does not matter.
    if (holder !== this.observed.holder || spec.renewTime !== this.observed.renewTime) {
      this.observed = { holder, renewTime: spec.renewTime, seenAt: Date.now() };
    }
    const durationMs = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    const expired = holder === '' || Date.now() - this.observed.seenAt > durationMs;
    if (holder !== identity && !expired) return false;
    const takingOver = holder !== identity;
    try {
      await this.client.replace<Lease>({
        ...lease,
        spec: {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds,
          renewTime: microTime(now),
          ...(takingOver && { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
        },
      });
      return true;
    } catch (error) {
      if (isStatus(error, 409)) return false; // someone else wrote first
      throw error;
    }
  }
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`lease request took longer than ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
