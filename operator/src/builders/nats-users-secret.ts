import { natsUsers, newNatsPassword, passwordEnvOf, routePasswordEnv, type NatsUser } from '@chorus/shared/bus/nats-permissions';
import type { KubeObject } from '../kube/kube-object.js';
import type { BuildContext } from './build-context.js';
import { childMeta, names } from './naming.js';

/**
 * The NATS passwords of one ChatCluster: one per user of the permission table
 * (shared/src/bus/nats-permissions.ts, key passwordEnvOf(user)) and the routes' own. Created once
 * with random values and never re-applied, like the token Secret: re-rendering would change the
 * passwords under running pods. The NATS pods read them as env variables named like the keys.
 */
export function natsUsersSecret(ctx: BuildContext): KubeObject {
  const passwords = Object.fromEntries([...natsUsers.map((user) => passwordEnvOf(user)), routePasswordEnv].map((key) => [key, newNatsPassword()]));
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(ctx.cr, names.natsUsers(ctx.name), 'nats'),
    type: 'Opaque',
    stringData: passwords,
  };
}

/** NATS_USER / NATS_PASSWORD of a Chorus container, the password from the cluster's Secret. */
export function natsUserEnv(ctx: BuildContext, user: NatsUser): Record<string, unknown>[] {
  return [
    { name: 'NATS_USER', value: user },
    { name: 'NATS_PASSWORD', valueFrom: { secretKeyRef: { name: names.natsUsers(ctx.name), key: passwordEnvOf(user) } } },
  ];
}
