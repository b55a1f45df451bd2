import type { KubeObject } from '../kube/kube-object.js';
import { natsUserEnv } from './nats-users-secret.js';
import { chorusContainer, chorusImage, mongodbUriEnv, resourcesFor, type BuildContext } from './build-context.js';
import { redisPasswordEnv } from './redis-secret.js';
import { childMeta, labels, names, shortHash } from './naming.js';
import { containerSecurityContext, podSecurityContext, tmpMount, tmpVolume, uids } from './pod-security.js';

/** A preflight that has not finished in this time has failed (it bounds each step itself, too). */
export const preflightDeadlineSeconds = 180;

export function preflightJobName(ctx: BuildContext): string {
  return names.preflightJob(ctx.name, shortHash(chorusImage(ctx.spec), 8));
}

/**
 * The upgrade preflight (loadtest/src/preflight/) from the image of the version to roll out,
 * against the live NATS, Redis and MongoDB of the platform; `ctx.spec` is the target spec.
 * One attempt (backoffLimit 0): a failure is a verdict, not a flake to retry behind the user's
 * back. The result is the container's termination message, which the operator reads.
 */
export function preflightJob(ctx: BuildContext): KubeObject {
  const { spec, name, cr } = ctx;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: childMeta(cr, preflightJobName(ctx), 'preflight', spec.version),
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: preflightDeadlineSeconds,
      template: {
        metadata: { labels: labels(name, 'preflight', spec.version) },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(uids.chorus),
          containers: [
            {
              ...chorusContainer(spec, 'preflight', ['node', 'loadtest/dist/src/preflight/main.js']),
              envFrom: [{ configMapRef: { name: names.config(name) } }],
              env: [
                { name: 'PREFLIGHT_VERSION', value: spec.version },
                ...mongodbUriEnv(ctx),
                ...redisPasswordEnv(ctx),
                ...natsUserEnv(ctx, 'preflight'),
              ],
              resources: resourcesFor(undefined, 'loadtest'),
              securityContext: containerSecurityContext,
              terminationMessagePolicy: 'FallbackToLogsOnError',
              volumeMounts: [tmpMount],
            },
          ],
          volumes: [tmpVolume],
        },
      },
    },
  };
}
