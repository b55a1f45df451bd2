import type { Server } from 'node:http';
import { createLogger, type Logger } from '@chorus/shared/logging/logger';
import { Autopilot } from './autopilot/autopilot.js';
import type { OperatorConfig } from './config.js';
import { LeaderElector } from './controller/leader-election.js';
import { KubeClient } from './kube/kube-client.js';
import { Manager } from './manager.js';
import { startHealthServer } from './server/health-server.js';
import { OperatorMetrics } from './server/operator-metrics.js';

/**
 * One operator replica: health/metrics server always; leader election (optional); on winning,
 * the manager (informers, work queue, reconciler) and the autopilot. Losing the lease stops the
 * work and calls onLostLeadership (main exits so the Deployment restarts it as a fresh candidate,
 * as controller-runtime does).
 */
export class Operator {
  readonly metrics = new OperatorMetrics();
  readonly logger: Logger;
  readonly client: KubeClient;
  manager: Manager | undefined;
  autopilot: Autopilot | undefined;
  private elector: LeaderElector | undefined;
  private server: Server | undefined;
  private leading = false;

  constructor(
    readonly config: OperatorConfig,
    private readonly hooks: { onLostLeadership?: () => void; logger?: Logger } = {},
  ) {
    this.logger = hooks.logger ?? createLogger('operator', { identity: config.identity });
    this.client = KubeClient.load(config.kubeconfig);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get healthPort(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : this.config.healthPort;
  }

  async start(): Promise<void> {
    this.server = await startHealthServer(
      this.config.healthPort,
      this.config.healthHost,
      { live: () => true, ready: () => !this.leading || (this.manager?.isSynced ?? false) },
      this.metrics.registry,
    );
    if (!this.config.leaderElection) {
      await this.lead();
      return;
    }
    this.elector = new LeaderElector(this.client, {
      namespace: this.config.leaseNamespace,
      name: this.config.leaseName,
      identity: this.config.identity,
      leaseDurationMs: this.config.leaseDurationMs,
      renewDeadlineMs: this.config.renewDeadlineMs,
      retryPeriodMs: this.config.retryPeriodMs,
      logger: this.logger,
    });
    this.elector.onStartedLeading(() => {
      this.lead().catch((error) => {
        this.logger.error({ err: String(error) }, 'could not start as leader');
        this.hooks.onLostLeadership?.();
      });
    });
    this.elector.onStoppedLeading(() => {
      void this.standDown().then(() => this.hooks.onLostLeadership?.());
    });
    this.elector.start();
  }

  async stop(): Promise<void> {
    await this.standDown();
    await this.elector?.stop();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async lead(): Promise<void> {
    this.leading = true;
    this.metrics.leader.set(1);
    this.manager = new Manager({
      client: this.client,
      logger: this.logger,
      metrics: this.metrics,
      identity: this.config.identity,
      ...(this.config.namespace && { namespace: this.config.namespace }),
      workers: this.config.workers,
      watchTimeoutSeconds: this.config.watchTimeoutSeconds,
      policy: {
        allowlist: { images: this.config.allowedImages, secretPrefixes: this.config.allowedSecretPrefixes },
        operatorNamespace: this.config.operatorNamespace,
      },
    });
    await this.manager.start();
    if (this.config.autopilot) {
      this.autopilot = new Autopilot({
        client: this.client,
        manager: this.manager,
        logger: this.logger,
        metrics: this.metrics,
        natsUrlTemplate: this.config.natsUrl,
        intervalMs: this.config.autopilotIntervalMs,
      });
      this.autopilot.start();
    }
  }

  private async standDown(): Promise<void> {
    this.leading = false;
    this.metrics.leader.set(0);
    await this.autopilot?.stop();
    await this.manager?.stop();
    this.autopilot = undefined;
    this.manager = undefined;
  }
}
