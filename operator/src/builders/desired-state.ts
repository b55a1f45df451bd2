import type { KubeObject } from '../kube/kube-object.js';
import { appConfigMap } from './app-config.js';
import type { BuildContext } from './build-context.js';
import { disruptionBudgets } from './disruption-budgets.js';
import { gatewayDeployment, gatewayIngress, gatewayMetricsService, gatewayService } from './gateway.js';
import { loadtestDeployment, loadtestJob } from './loadtest.js';
import { messageServiceDeployment } from './message-service.js';
import { mongodbHeadlessService, mongodbInitJob, mongodbStatefulSet, mongodbUri } from './mongodb.js';
import { mongodbUriSecret } from './mongodb-secrets.js';
import { networkPolicies } from './network-policies.js';
import { natsClientService, natsConfigMap, natsHeadlessService, natsStatefulSet } from './nats.js';
import { redisServices, redisStatefulSet } from './redis.js';

/**
 * Every child a ChatCluster should have, in apply order (config and infrastructure before the
 * workloads that use them). Pure: spec in, objects out. The create-once Secrets are separate
 * (token-secret.ts); the in-cluster MongoDB's URI Secret needs its password from one of them.
 */
export function desiredState(ctx: BuildContext): KubeObject[] {
  const { spec } = ctx;
  const objects: (KubeObject | undefined)[] = [
    ...networkPolicies(ctx),
    appConfigMap(ctx),
    natsConfigMap(ctx),
    natsHeadlessService(ctx),
    natsClientService(ctx),
    natsStatefulSet(ctx),
    ...redisServices(ctx),
    redisStatefulSet(ctx),
    ...(spec.mongodb.external
      ? []
      : [
          ...(ctx.mongodbPassword !== undefined ? [mongodbUriSecret(ctx, mongodbUri(ctx, ctx.mongodbPassword))] : []),
          mongodbHeadlessService(ctx),
          mongodbStatefulSet(ctx),
          mongodbInitJob(ctx),
        ]),
    gatewayService(ctx),
    gatewayMetricsService(ctx),
    gatewayIngress(ctx),
    gatewayDeployment(ctx),
    messageServiceDeployment(ctx),
    ...disruptionBudgets(ctx),
    ...(spec.loadtest.enabled ? [loadtestDeployment(ctx), loadtestJob(ctx)] : []),
  ];
  return objects.filter((o): o is KubeObject => o !== undefined);
}
