import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../kube/kube-object.js';
import type { BuildContext } from './build-context.js';
import { mongodbAuthSecret } from './mongodb-secrets.js';
import { childMeta, names } from './naming.js';
import { natsUsersSecret } from './nats-users-secret.js';
import { redisSecret } from './redis-secret.js';

/**
 * The HS256 key of the gateways (dev mode: they sign with it; jwt mode without an
 * hs256SecretRef or jwksUrl: the application backend signs with it, reading this Secret).
 * Created once with a random value and never re-applied (re-rendering would rotate it and log
 * everyone out); recreated only if deleted.
 */
export function tokenSecret(ctx: BuildContext): KubeObject {
  return randomSecret(ctx, names.tokenSecret(ctx.name), 'CHORUS_TOKEN_SECRET');
}

/** The bearer secret of POST /admin/revoke on the gateways' metrics port; created once like the token Secret. */
export function adminSecret(ctx: BuildContext): KubeObject {
  return randomSecret(ctx, names.adminSecret(ctx.name), 'ADMIN_TOKEN');
}

/** Secrets the operator creates once and never re-applies (a builder returns undefined when the spec needs none). */
export const createOnceSecrets: ((ctx: BuildContext) => KubeObject | undefined)[] = [
  tokenSecret,
  adminSecret,
  redisSecret,
  natsUsersSecret,
  (ctx) => (ctx.spec.mongodb.external ? undefined : mongodbAuthSecret(ctx)),
];

/** Names of every create-once Secret a ChatCluster may own: never pruned, even when the spec stops needing one. */
export function createOnceSecretNames(name: string): string[] {
  return [names.tokenSecret(name), names.adminSecret(name), names.redisSecret(name), names.natsUsers(name), names.mongodbAuth(name)];
}

function randomSecret(ctx: BuildContext, name: string, key: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(ctx.cr, name, 'config'),
    type: 'Opaque',
    stringData: { [key]: randomBytes(32).toString('base64url') },
  };
}
