import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../kube/kube-object.js';
import type { BuildContext } from './build-context.js';
import { childMeta, names } from './naming.js';

/** The key of the password in the Redis Secret; also the env name the gateways and preflight read. */
export const redisPasswordKey = 'REDIS_PASSWORD';
/** The key of the config file redis-server reads (`requirepass`), mounted into the Redis pod. */
export const redisConfKey = 'redis.conf';

/**
 * The Redis password of one ChatCluster, created once with a random value and never re-applied
 * (re-rendering would change it under running gateways). redis-server reads it from a mounted
 * config file, so it is in no argument or env value of the pod spec; clients get it by secretKeyRef.
 */
export function redisSecret(ctx: BuildContext): KubeObject {
  // base64url: nothing a redis.conf line or a URL would have to quote.
  const password = randomBytes(32).toString('base64url');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(ctx.cr, names.redisSecret(ctx.name), 'redis'),
    type: 'Opaque',
    stringData: { [redisPasswordKey]: password, [redisConfKey]: `requirepass ${password}\n` },
  };
}

/** REDIS_PASSWORD of a container that talks to Redis (gateway, preflight). */
export function redisPasswordEnv(ctx: BuildContext): Record<string, unknown>[] {
  return [{ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: names.redisSecret(ctx.name), key: redisPasswordKey } } }];
}
