import type { Logger } from '@chorus/shared/logging/logger';
import type { KubeClient } from '../kube/kube-client.js';
import type { KubeObject } from '../kube/kube-object.js';

export type EventType = 'Normal' | 'Warning';

/**
 * Writes core/v1 Events about an object (what `kubectl describe` shows). The same reason and
 * message for the same object is written at most once per `dedupeMs`, so a level-triggered loop
 * that keeps seeing the same problem does not flood the API.
 */
export class EventRecorder {
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly instance: string,
    private readonly logger?: Logger,
    private readonly dedupeMs = 60_000,
  ) {}

  async record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const { namespace, name, uid } = obj.metadata;
    const key = `${uid}/${type}/${reason}/${message}`;
    const now = Date.now();
    const last = this.recent.get(key);
    if (last !== undefined && now - last < this.dedupeMs) return;
    this.recent.set(key, now);
    if (this.recent.size > 1000) for (const [k, t] of this.recent) if (now - t > this.dedupeMs) this.recent.delete(k);
    const time = new Date(now).toISOString();
    try {
      await this.client.create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${name}.`, namespace: namespace! },
        involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name, namespace, uid, resourceVersion: obj.metadata.resourceVersion },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: this.instance,
        firstTimestamp: time,
        lastTimestamp: time,
        count: 1,
      });
    } catch (error) {
      // Events are best effort; never fail a reconcile over one.
      this.logger?.warn({ err: String(error), reason }, 'could not record event');
    }
  }
}
