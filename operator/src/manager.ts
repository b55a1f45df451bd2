import type { Logger } from '@chorus/shared/logging/logger';
import type { ChatCluster } from './api/chatcluster.js';
import { fieldManager, managedByLabel } from './builders/naming.js';
import { Controller } from './controller/controller.js';
import { Informer } from './controller/informer.js';
import type { KubeClient } from './kube/kube-client.js';
import { objectKey, splitKey, type KubeObject } from './kube/kube-object.js';
import { kinds, type ResourceKind } from './kube/resource-kinds.js';
import { EventRecorder } from './reconcile/event-recorder.js';
import { ChatClusterReconciler, type ClusterView, type ReconcilerPolicy } from './reconcile/reconciler.js';
import type { OperatorMetrics } from './server/operator-metrics.js';

/** Kinds the operator creates for a ChatCluster and watches to notice drift. */
export const childKinds: ResourceKind[] = [
  kinds.Deployment,
  kinds.StatefulSet,
  kinds.Service,
  kinds.ConfigMap,
  kinds.Secret,
  kinds.PodDisruptionBudget,
  kinds.Job,
  kinds.Ingress,
  kinds.NetworkPolicy,
];

export interface ManagerOptions {
  client: KubeClient;
  logger: Logger;
  metrics: OperatorMetrics;
  /** Identity used in Events (pod name). */
  identity: string;
  /** Watch one namespace; all namespaces when omitted. */
  namespace?: string;
  workers?: number;
  watchTimeoutSeconds?: number;
  resyncMs?: number;
  /** The allowlist and the operator's namespace (operator flags). */
  policy?: ReconcilerPolicy;
}

/**
 * Wires informers, the work queue and the reconciler together, like a controller-runtime
 * manager: a ChatCluster event enqueues its key; a child's event enqueues the ChatCluster named by
 * its controller owner reference. Started only on the elected leader.
 */
export class Manager implements ClusterView {
  readonly chatClusters: Informer<ChatCluster>;
  readonly children = new Map<string, Informer>();
  readonly controller: Controller;
  readonly reconciler: ChatClusterReconciler;
  readonly events: EventRecorder;
  private started = false;
  private synced = false;
  private metricsTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ManagerOptions) {
    const { client, logger, namespace } = options;
    const watchTimeoutSeconds = options.watchTimeoutSeconds ?? 300;
    const informerOptions = { ...(namespace && { namespace }), watchTimeoutSeconds, logger };
    this.chatClusters = new Informer<ChatCluster>(client, kinds.ChatCluster, informerOptions);
    for (const kind of childKinds) {
      this.children.set(kind.kind, new Informer(client, kind, { ...informerOptions, labelSelector: `${managedByLabel}=${fieldManager}` }));
    }
    this.events = new EventRecorder(client, 'chorus-operator', options.identity, logger);
    this.reconciler = new ChatClusterReconciler(client, this, this.events, logger, options.metrics, options.resyncMs, options.policy);
    this.controller = new Controller(
      { reconcile: (key) => { const { namespace: ns, name } = splitKey(key); return this.reconciler.reconcile(ns, name); } },
      logger,
      { workers: options.workers ?? 2, metrics: options.metrics },
    );
    this.chatClusters.on((type, cr) => {
      if (type === 'delete') this.reconciler.forget(cr.metadata.namespace!, cr.metadata.name!);
      else this.controller.queue.add(objectKey(cr));
    });
    for (const informer of this.children.values()) {
      informer.on((_type, obj) => {
        const owner = obj.metadata.ownerReferences?.find((ref) => ref.controller && ref.kind === 'ChatCluster');
        if (owner) this.controller.queue.add(`${obj.metadata.namespace}/${owner.name}`);
      });
    }
  }

  get isSynced(): boolean {
    return this.synced;
  }

  get informers(): Informer[] {
    return [this.chatClusters as Informer, ...this.children.values()];
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const informer of this.informers) informer.start();
    await Promise.all(this.informers.map((i) => i.synced));
    this.synced = true;
    this.controller.start();
    this.metricsTimer = setInterval(() => {
      this.options.metrics.queueDepth.set(this.controller.queue.length);
      for (const informer of this.informers) this.options.metrics.watchErrors.set({ kind: informer.kind.kind }, informer.stats.errors);
    }, 5_000);
    this.metricsTimer.unref();
    this.options.logger.info({ namespace: this.options.namespace ?? '(all)' }, 'caches synced; reconciling');
  }

  async stop(): Promise<void> {
    clearInterval(this.metricsTimer);
    await this.controller.stop();
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  /** Enqueue a ChatCluster (e.g. the autopilot changed its desired replicas). */
  enqueue(namespace: string, name: string): void {
    this.controller.queue.add(`${namespace}/${name}`);
  }

  getChatCluster(namespace: string, name: string): ChatCluster | undefined {
    return this.chatClusters.get(namespace, name);
  }

  get<T extends KubeObject>(kind: ResourceKind<T>, namespace: string, name: string): T | undefined {
    // The informer of a kind caches objects of that kind (the table types them).
    return this.children.get(kind.kind)?.get(namespace, name) as T | undefined;
  }

  ownedBy(uid: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const informer of this.children.values()) {
      for (const obj of informer.cache.values()) {
        if (obj.metadata.ownerReferences?.some((ref) => ref.controller && ref.uid === uid)) out.push(obj);
      }
    }
    return out;
  }
}
