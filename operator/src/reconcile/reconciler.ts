import type { Logger } from '@chorus/shared/logging/logger';
import type { ChatCluster } from '../api/chatcluster.js';
import { parseSpec, type ChatClusterSpec } from '../api/chatcluster-spec.js';
import { buildContext, chorusImage, type BuildContext } from '../builders/build-context.js';
import { preflightJob, preflightJobName } from '../builders/preflight-job.js';
import { desiredState } from '../builders/desired-state.js';
import { fieldManager, names, selectorLabels, shortHash } from '../builders/naming.js';
import { createOnceSecretNames, createOnceSecrets } from '../builders/token-secret.js';
import { mongodbAuthKeys } from '../builders/mongodb-secrets.js';
import { isStatus, KubeApiError, type KubeClient } from '../kube/kube-client.js';
import type { KubeObject } from '../kube/kube-object.js';
import type { Secret } from '../kube/object-types.js';
import { kindOf, kinds, type ResourceKind } from '../kube/resource-kinds.js';
import { allowAll, allowlistViolations, type Allowlist } from './allowlist.js';
import { findCondition } from './conditions.js';
import { keepImmutableFields } from './immutable-fields.js';
import type { EventRecorder } from './event-recorder.js';
import { computeStatus, invalidSpecStatus, rolledOut, type ReconcilerStatus } from './status.js';
import { decideUpgrade, preflightOutcome, splitImage, type UpgradeDecision } from './upgrade.js';

/** Read access to the informer caches the reconciler decides from. */
export interface ClusterView {
  getChatCluster(namespace: string, name: string): ChatCluster | undefined;
  get<T extends KubeObject>(kind: ResourceKind<T>, namespace: string, name: string): T | undefined;
  /** Every cached child whose controller reference points at this owner uid. */
  ownedBy(uid: string): KubeObject[];
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** What the administrator configured for every ChatCluster (operator flags). */
export interface ReconcilerPolicy {
  allowlist: Allowlist;
  /** The operator's namespace, for the NetworkPolicies' operator rules. */
  operatorNamespace?: string | undefined;
}

export interface ReconcilerMetrics {
  applied(kind: string): void;
  deleted(kind: string): void;
}

/**
 * Level-triggered: each call makes the children of one ChatCluster match its spec, whatever
 * happened before (missed events, deleted or hand-edited children, restarts), then reports what
 * it sees in status. Safe to call any number of times.
 */
export class ChatClusterReconciler {
  /** What we last applied per child, to skip no-op applies while the cached object is unchanged. */
  private readonly applied = new Map<string, { hash: string; resourceVersion: string | undefined }>();

  constructor(
    private readonly client: KubeClient,
    private readonly view: ClusterView,
    private readonly events: EventRecorder,
    private readonly logger: Logger,
    private readonly metrics?: ReconcilerMetrics,
    private readonly resyncMs = 5 * 60_000,
    private readonly policy: ReconcilerPolicy = { allowlist: allowAll },
  ) {}

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const cr = this.view.getChatCluster(namespace, name);
    if (!cr || cr.metadata.deletionTimestamp) return {}; // children go with it (owner references)
    const generation = cr.metadata.generation ?? 0;
    const parsed = parseSpec(cr.spec);
    if (!parsed.ok) {
      await this.writeStatus(cr, invalidSpecStatus(generation, cr.status?.conditions, parsed.message));
      await this.events.record(cr, 'Warning', 'InvalidSpec', parsed.message);
      return {};
    }
    // Refused by the allowlist: nothing is applied (nor the preflight Job, which runs the image).
    const refused = allowlistViolations(parsed.spec, name, this.policy.allowlist);
    if (refused.length) {
      const message = refused.join('; ');
      await this.writeStatus(cr, invalidSpecStatus(generation, cr.status?.conditions, message, new Date(), 'NotAllowed'));
      await this.events.record(cr, 'Warning', 'NotAllowed', message);
      return {};
    }
    const upgrade = await this.decideUpgrade(cr, parsed.spec);
    // The workloads run what the upgrade allows: the target only once its preflight passed.
    const rendered = { ...parsed.spec, ...splitImage(upgrade.renderImage) };
    const secrets = await this.ensureCreateOnceSecrets(buildContext(cr, rendered));
    const mongodbPassword = secretValue(secrets.get(names.mongodbAuth(name)), mongodbAuthKeys.password);
    const ctx = buildContext(cr, rendered, { mongodbPassword, operatorNamespace: this.policy.operatorNamespace });
    const referenceProblems = await this.checkReferences(cr, parsed.spec);
    if (referenceProblems.length) await this.events.record(cr, 'Warning', 'InvalidReference', referenceProblems.join('; '));

    const desired = [...desiredState(ctx), ...(upgrade.wantPreflight ? [preflightJob(buildContext(cr, parsed.spec))] : [])];
    const errors: string[] = [];
    const created: string[] = [];
    const restored: string[] = [];
    const warnings: string[] = [];
    for (const wanted of desired) {
      const id = `${wanted.kind}/${namespace}/${wanted.metadata.name}`;
      const cached = this.view.get(kindOf(wanted.kind), namespace, wanted.metadata.name!);
      const kept = keepImmutableFields(wanted, cached);
      warnings.push(...kept.warnings);
      const obj = kept.object;
      const hash = shortHash(obj, 16);
      const last = this.applied.get(id);
      if (cached && last && last.hash === hash && last.resourceVersion === cached.metadata.resourceVersion) continue;
      try {
        const result = await this.client.apply(obj, fieldManager, { force: true });
        this.applied.set(id, { hash, resourceVersion: result.metadata.resourceVersion });
        this.metrics?.applied(obj.kind);
        if (!cached) (last ? restored : created).push(`${obj.kind}/${obj.metadata.name}`);
      } catch (error) {
        const message = error instanceof KubeApiError ? error.message : String(error);
        errors.push(`${obj.kind}/${obj.metadata.name}: ${message}`);
        this.logger.warn({ object: id, err: message }, 'apply failed');
        if (!(error instanceof KubeApiError) || error.status >= 500 || error.status === 429) throw error; // transient: back off
      }
    }
    await this.prune(cr, desired);

    if (created.length) await this.events.record(cr, 'Normal', 'Created', `created ${created.join(', ')}`);
    if (restored.length) await this.events.record(cr, 'Normal', 'Restored', `re-created ${restored.join(', ')} (deleted out of band)`);
    if (errors.length) await this.events.record(cr, 'Warning', 'ApplyFailed', errors.join('; '));
    if (warnings.length) await this.events.record(cr, 'Warning', 'ImmutableFieldKept', warnings.join('; '));
    if (upgrade.event) await this.events.record(cr, upgrade.event.type, upgrade.event.reason, upgrade.event.message);

    const status = computeStatus({
      generation,
      previous: cr.status?.conditions,
      spec: parsed.spec,
      workerReplicas: ctx.workerReplicas,
      gatewaySelector: Object.entries(selectorLabels(name, 'gateway')).map(([k, v]) => `${k}=${v}`).join(','),
      children: {
        gateway: this.view.get(kinds.Deployment, namespace, names.gateway(name)),
        messageService: this.view.get(kinds.Deployment, namespace, names.messageService(name)),
        nats: this.view.get(kinds.StatefulSet, namespace, names.nats(name)),
        redis: this.view.get(kinds.StatefulSet, namespace, names.redis(name)),
        mongodb: this.view.get(kinds.StatefulSet, namespace, names.mongodb(name)),
      },
      applyErrors: errors,
      referenceProblems,
      upgrade: upgrade.upgrade,
    });
    const wasReady = findCondition(cr.status?.conditions, 'Ready')?.status;
    const isReady = findCondition(status.conditions, 'Ready')!;
    await this.writeStatus(cr, status);
    if (wasReady !== isReady.status) {
      if (isReady.status === 'True') await this.events.record(cr, 'Normal', 'Ready', isReady.message);
      else if (wasReady === 'True') await this.events.record(cr, 'Warning', 'NotReady', isReady.message);
    }
    if ((cr.status?.observedGeneration ?? 0) !== generation && cr.status?.observedGeneration !== undefined) {
      await this.events.record(cr, 'Normal', 'Updated', `applied generation ${generation}`);
    }
    return { requeueAfterMs: referenceProblems.length || errors.length ? 10_000 : this.resyncMs };
  }

  /** Which image the workloads may run, and whether the target's preflight Job is wanted (reconcile/upgrade.ts). */
  private async decideUpgrade(cr: ChatCluster, spec: ChatClusterSpec): Promise<UpgradeDecision> {
    const namespace = cr.metadata.namespace!;
    const name = cr.metadata.name!;
    const target = buildContext(cr, spec);
    const jobName = preflightJobName(target);
    // Already running the target: its kept Job's verdict is not needed again.
    const job = cr.status?.upgrade?.currentImage === chorusImage(spec) ? undefined : this.view.get(kinds.Job, namespace, jobName);
    let preflight = job ? preflightOutcome(job, []) : undefined;
    if (job && preflight?.state !== 'running') {
      // Finished: its verdict is in its pod's termination message.
      const pods = await this.client.list(kinds.Pod, namespace, { labelSelector: `job-name=${jobName}` });
      preflight = preflightOutcome(job, pods.items);
    }
    const workloads = [
      [this.view.get(kinds.Deployment, namespace, names.gateway(name)), spec.gateway.replicas],
      [this.view.get(kinds.Deployment, namespace, names.messageService(name)), target.workerReplicas],
    ] as const;
    const imageOf = (w: (typeof workloads)[number][0]) =>
      ((w?.spec?.template as { spec?: { containers?: { image?: string }[] } } | undefined)?.spec?.containers?.[0]?.image);
    return decideUpgrade({
      targetImage: chorusImage(spec),
      previous: cr.status?.upgrade,
      liveImage: imageOf(workloads[0][0]),
      preflight,
      preflightJob: jobName,
      rolledOut: (image) => workloads.every(([w, want]) => imageOf(w) === image && rolledOut(w, want)),
    });
  }

  /** Forget what we applied for a ChatCluster that is gone. */
  forget(namespace: string, name: string): void {
    for (const id of this.applied.keys()) if (id.split('/')[1] === namespace && id.split('/')[2]?.startsWith(`${name}-`)) this.applied.delete(id);
  }

  /** What the schema cannot check: the external MongoDB URI Secret must exist and hold the key. */
  /** What the schema cannot check: referenced Secrets (external MongoDB URI, HS256 key) must exist and hold the key. */
  private async checkReferences(cr: ChatCluster, spec: ChatClusterSpec): Promise<string[]> {
    const refs = [
      ['spec.mongodb.external.uriSecretRef', spec.mongodb.external?.uriSecretRef],
      ['spec.gateway.auth.hs256SecretRef', spec.gateway.auth.hs256SecretRef],
    ] as const;
    const problems: string[] = [];
    for (const [field, ref] of refs) {
      if (!ref) continue;
      const secret = await this.client.get(kinds.Secret, cr.metadata.namespace, ref.name);
      if (!secret) problems.push(`${field}: Secret ${ref.name} not found in namespace ${cr.metadata.namespace}`);
      else if (!secret.data?.[ref.key]) problems.push(`${field}: Secret ${ref.name} has no key ${ref.key}`);
    }
    return problems;
  }

  /** Creates the create-once Secrets that do not exist yet; returns each as it now is (cached, or as created). */
  private async ensureCreateOnceSecrets(ctx: BuildContext): Promise<Map<string, Secret>> {
    const secrets = new Map<string, Secret>();
    for (const build of createOnceSecrets) {
      const secret = build(ctx);
      if (!secret) continue;
      const secretName = secret.metadata.name!;
      const cached = this.view.get(kinds.Secret, ctx.namespace, secretName);
      if (cached) {
        secrets.set(secretName, cached);
        continue;
      }
      try {
        secrets.set(secretName, await this.client.create(secret as Secret));
      } catch (error) {
        if (!isStatus(error, 409)) throw error; // exists already: keep its value
        const live = await this.client.get(kinds.Secret, ctx.namespace, secretName);
        if (live) secrets.set(secretName, live);
      }
    }
    return secrets;
  }

  /** Delete children this ChatCluster owns but no longer wants (e.g. loadtest disabled, old Jobs). */
  private async prune(cr: ChatCluster, desired: KubeObject[]): Promise<void> {
    const keep = new Set(desired.map((o) => `${o.kind}/${o.metadata.name}`));
    for (const secret of createOnceSecretNames(cr.metadata.name!)) keep.add(`Secret/${secret}`);
    for (const child of this.view.ownedBy(cr.metadata.uid!)) {
      const id = `${child.kind}/${child.metadata.name}`;
      if (keep.has(id) || child.metadata.deletionTimestamp) continue;
      this.logger.info({ object: id }, 'pruning child that is no longer desired');
      if (await this.client.delete(kindOf(child.kind), child.metadata.namespace, child.metadata.name!)) this.metrics?.deleted(child.kind);
    }
  }

  private async writeStatus(cr: ChatCluster, status: ReconcilerStatus): Promise<void> {
    const current = cr.status ?? {};
    const same = (Object.keys(status) as (keyof ReconcilerStatus)[]).every(
      (key) => JSON.stringify(current[key]) === JSON.stringify(status[key]),
    );
    if (same) return;
    await this.client.mergePatch(kinds.ChatCluster, cr.metadata.namespace, cr.metadata.name!, { status }, 'status');
  }
}

/** A Secret's value (data is base64; stringData only on an object not yet read back). */
function secretValue(secret: Secret | undefined, key: string): string | undefined {
  const data = secret?.data?.[key];
  if (data !== undefined) return Buffer.from(data, 'base64').toString('utf8');
  return secret?.stringData?.[key];
}
