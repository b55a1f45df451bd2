import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../kube/kube-object.js';
import type { BuildContext } from './build-context.js';
import { childMeta, names } from './naming.js';

export const mongodbRootUser = 'root';
export const mongodbAuthKeys = { username: 'username', password: 'password', keyfile: 'keyfile' } as const;

/**
 * The in-cluster MongoDB's root user and the replica set's internal key (--keyFile, which also
 * turns on authentication). Created once with random values and never re-applied: the password
 * is written into the database on its first start and the key must match across members.
 */
export function mongodbAuthSecret(ctx: BuildContext): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(ctx.cr, names.mongodbAuth(ctx.name), 'mongodb'),
    type: 'Opaque',
    stringData: {
      [mongodbAuthKeys.username]: mongodbRootUser,
      // base64url: safe in a connection string without escaping.
      [mongodbAuthKeys.password]: randomBytes(32).toString('base64url'),
      // mongod wants 6 to 1024 base64 characters.
      [mongodbAuthKeys.keyfile]: randomBytes(512).toString('base64'),
    },
  };
}

/**
 * The services' MONGODB_URI for the in-cluster replica set, with the root user's credentials:
 * re-rendered each reconcile (the member list follows spec.mongodb.replicas) from the password in
 * the create-once auth Secret, so the URI never sits in a ConfigMap.
 */
export function mongodbUriSecret(ctx: BuildContext, uri: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(ctx.cr, names.mongodbUri(ctx.name), 'mongodb'),
    type: 'Opaque',
    stringData: { uri },
  };
}

/** MONGO_ROOT_USERNAME / MONGO_ROOT_PASSWORD from the auth Secret, for mongod's first start and the init Job. */
export function mongodbRootEnv(ctx: BuildContext): Record<string, unknown>[] {
  const ref = (key: string) => ({ secretKeyRef: { name: names.mongodbAuth(ctx.name), key } });
  return [
    { name: 'MONGO_ROOT_USERNAME', valueFrom: ref(mongodbAuthKeys.username) },
    { name: 'MONGO_ROOT_PASSWORD', valueFrom: ref(mongodbAuthKeys.password) },
  ];
}
