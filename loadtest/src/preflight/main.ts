#!/usr/bin/env node
// The upgrade preflight (docs/operator.md, "Verified upgrade"): run from the NEW version's image
// against the live platform before the operator rolls anything. Exit 0 = every check passed.
import { existsSync, writeFileSync } from 'node:fs';
import { MongoClient } from 'mongodb';
import { connect } from '@nats-io/transport-node';
import { z } from 'zod';
import { readEnv } from '@chorus/shared/config/env';
import { natsAuthOptions, natsCredentialsFromEnv } from '@chorus/shared/bus/nats-connection';
import { summarize, type CheckResult } from './check-result.js';
import { canaryMessage } from './canary-message.js';
import { checkIndexes, checkStoredData } from './mongodb-checks.js';
import { natsChecks } from './nats-checks.js';
import { checkRedis } from './redis-check.js';

const envSchema = z.object({
  NATS_URL: z.string().min(1),
  REDIS_URL: z.string().min(1),
  /** Redis's password (the ChatCluster's `<name>-redis` Secret). */
  REDIS_PASSWORD: z.string().min(1).optional(),
  MONGODB_URI: z.string().min(1),
  MONGODB_DB: z.string().min(1).default('chorus'),
  /** The version being checked, for the summary (the operator sets it). */
  PREFLIGHT_VERSION: z.string().default('unknown'),
  /** Bound of each step (connect, a query, a canary frame). */
  PREFLIGHT_STEP_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** Where the summary goes: the pod's termination message, which the operator reads. */
  PREFLIGHT_RESULT_FILE: z.string().default('/dev/termination-log'),
});

async function step(name: string, run: () => Promise<CheckResult | CheckResult[]>): Promise<CheckResult[]> {
  try {
    const result = await run();
    return Array.isArray(result) ? result : [result];
  } catch (error) {
    return [{ name, ok: false, detail: (error as Error).message }];
  }
}

async function main(): Promise<number> {
  const env = readEnv(envSchema);
  const timeout = env.PREFLIGHT_STEP_TIMEOUT_MS;
  const results: CheckResult[] = [];
  const report = (batch: CheckResult[]) => {
    for (const r of batch) console.log(`${r.ok ? 'PASS' : 'FAIL'} ${r.name}: ${r.detail}`);
    results.push(...batch);
    return batch.every((r) => r.ok);
  };

  // As the preflight user (NATS_USER / NATS_PASSWORD): reads, plus a gateway's rights for the canary.
  const credentials = natsCredentialsFromEnv();
  const nc = await connect({ servers: env.NATS_URL, timeout, name: 'chorus-preflight', maxReconnectAttempts: 0, ...natsAuthOptions(credentials) }).catch((error: Error) => error);
  if (nc instanceof Error) report([{ name: 'nats.connect', ok: false, detail: `${env.NATS_URL}: ${nc.message}` }]);
  else {
    report([{ name: 'nats.connect', ok: true, detail: `${env.NATS_URL}: server ${nc.info?.version}` }]);
    report(await step('nats.stream', () => natsChecks(nc)));
    await nc.close();
  }
  report(await step('redis', () => checkRedis(env.REDIS_URL, env.REDIS_PASSWORD, timeout)));
  const mongo = new MongoClient(env.MONGODB_URI, { serverSelectionTimeoutMS: timeout, connectTimeoutMS: timeout, socketTimeoutMS: timeout * 3 });
  try {
    await mongo.connect();
    const db = mongo.db(env.MONGODB_DB);
    const { version } = await db.admin().command({ buildInfo: 1 });
    report([{ name: 'mongodb.connect', ok: true, detail: `database ${env.MONGODB_DB}, server ${version}` }]);
    report(await step('mongodb.indexes', () => checkIndexes(db)));
    report(await step('mongodb.data', () => checkStoredData(db)));
  } catch (error) {
    report([{ name: 'mongodb.connect', ok: false, detail: (error as Error).message }]);
  } finally {
    await mongo.close();
  }
  // The canary only when the platform under it is sound: its failure would say less.
  if (results.every((r) => r.ok)) report(await step('canary.message', () => canaryMessage({ natsUrl: env.NATS_URL, redisUrl: env.REDIS_URL, redisPassword: env.REDIS_PASSWORD }, timeout)));

  const summary = summarize(env.PREFLIGHT_VERSION, results);
  console.log(summary.ok ? `preflight of ${summary.version}: PASS (${summary.passed.length} checks)` : `preflight of ${summary.version}: FAIL ${summary.failed!.check}`);
  if (env.PREFLIGHT_RESULT_FILE !== '-' && (env.PREFLIGHT_RESULT_FILE !== '/dev/termination-log' || existsSync('/dev/termination-log'))) {
    writeFileSync(env.PREFLIGHT_RESULT_FILE, JSON.stringify(summary));
  }
  return summary.ok ? 0 : 1;
}

// A whole-run bound on top of the per-step ones, so a Job never hangs.
const overall = setTimeout(() => {
  console.error('preflight: did not finish within 120 s');
  process.exit(2);
}, 120_000);
overall.unref();
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`preflight: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
