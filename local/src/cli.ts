#!/usr/bin/env node
import { availableParallelism } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { batchingLimits, defaultBatchSettings } from '@chorus/shared/batching/batch-settings';
import { createLogger } from '@chorus/shared/logging/logger';
import { startPlatform } from './platform.js';
import { binaries, repoRoot } from './servers/binaries.js';

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    return n;
  };
}

/** `auto` = one gateway per core (the original design's one process per core behind one port). */
function gatewayCount(value: string): number {
  return value === 'auto' ? Math.min(availableParallelism(), 16) : integer(1, 16)(value);
}

const program = new Command('npm start --')
  .description('Runs the whole Chorus platform on this machine, on 127.0.0.1 only')
  .addOption(new Option('--gateways <n>', "gateway processes, or 'auto': one per core").argParser(gatewayCount).env('CHORUS_GATEWAYS').default(gatewayCount('auto'), 'auto'))
  .addOption(new Option('--message-services <n>', 'message-service processes').argParser(integer(1, 16)).env('CHORUS_MESSAGE_SERVICES').default(2))
  .addOption(new Option('--port <port>', "the platform's one address; every gateway serves on it, and gateway n also on port + n (for debugging)").argParser(integer(1, 65535 - 16)).env('CHORUS_PORT').default(8080))
  .addOption(new Option('--nats-port <port>', 'nats-server port (default: a free port)').argParser(integer(1, 65535)).env('CHORUS_NATS_PORT'))
  .addOption(new Option('--redis-port <port>', 'redis-server port (default: a free port)').argParser(integer(1, 65535)).env('CHORUS_REDIS_PORT'))
  .addOption(new Option('--mongo-port <port>', 'FerretDB port (default: a free port; ignored with MONGODB_URI)').argParser(integer(1, 65535)).env('CHORUS_MONGO_PORT'))
  .addOption(new Option('--data-dir <dir>', 'where data and logs live (kept across restarts)').env('CHORUS_DATA_DIR').default(resolve(repoRoot, '.data')))
  .addOption(new Option('--batching <mode>', 'auto: the autopilot tunes batching; fixed: use --batch-size/--flush-interval').choices(['auto', 'fixed']).env('CHORUS_BATCHING').default('auto'))
  .addOption(new Option('--batch-size <n>', 'fixed batch size').argParser(integer(1, batchingLimits.maxBatchSize)).default(defaultBatchSettings.batchSize))
  .addOption(new Option('--flush-interval <ms>', 'fixed flush interval in ms').argParser(integer(1, batchingLimits.maxFlushIntervalMs)).default(defaultBatchSettings.flushIntervalMs))
  .addOption(new Option('--tracing', 'start Jaeger on 127.0.0.1 and send every service\'s traces to it (first use builds Jaeger: scripts/bootstrap.sh jaeger)').env('CHORUS_TRACING').default(false))
  .addOption(new Option('--jaeger-port <port>', "Jaeger's query API port, with --tracing").argParser(integer(1, 65535)).env('CHORUS_JAEGER_PORT').default(16686))
  .addOption(new Option('--auth <mode>', 'dev: name-only login for anyone (local use); jwt: only tokens signed with the platform secret (.data/token-secret)').choices(['dev', 'jwt']).env('CHORUS_AUTH').default('dev'))
  .showHelpAfterError();

program.parse();
const options = program.opts<{
  gateways: number;
  messageServices: number;
  port: number;
  natsPort?: number;
  redisPort?: number;
  mongoPort?: number;
  dataDir: string;
  batching: 'auto' | 'fixed';
  batchSize: number;
  flushInterval: number;
  auth: 'dev' | 'jwt';
  tracing: boolean;
  jaegerPort: number;
}>();

// `npm start`'s set-up (prestart) builds only what every run needs; Jaeger is built on first use.
if (options.tracing) {
  try {
    binaries.jaeger();
  } catch {
    console.log('Building Jaeger for --tracing (one time; see scripts/bootstrap.sh jaeger) ...');
    const build = spawnSync('bash', [join(repoRoot, 'scripts', 'bootstrap.sh'), 'jaeger'], { stdio: 'inherit' });
    if (build.status !== 0) {
      console.error('Could not build Jaeger; run scripts/bootstrap.sh jaeger to see why.');
      process.exit(1);
    }
  }
}

const log = createLogger('supervisor');
console.log(`Starting Chorus: nats-server, redis-server, ${process.env.MONGODB_URI ? 'MongoDB at MONGODB_URI' : 'FerretDB'}, ${options.gateways} gateways, ${options.messageServices} message-services${options.tracing ? ', Jaeger' : ''} (data in ${options.dataDir}) ...`);
const platform = await startPlatform({
  dataDir: resolve(options.dataDir),
  gateways: options.gateways,
  messageServices: options.messageServices,
  sharedPort: options.port,
  gatewayPort: options.port + 1,
  ...(options.natsPort && { natsPort: options.natsPort }),
  ...(options.redisPort && { redisPort: options.redisPort }),
  ...(options.mongoPort && { mongoPort: options.mongoPort }),
  persistRedis: true,
  authMode: options.auth,
  ...(options.tracing && { tracing: { queryPort: options.jaegerPort } }),
  supervise: true,
  batching: options.batching === 'auto' ? 'auto' : { batchSize: options.batchSize, flushIntervalMs: options.flushInterval },
  logger: log,
}).catch((error: unknown) => {
  console.error(`Could not start the platform: ${(error as Error).message}`);
  process.exit(1);
});

console.log(`\nChorus is running. Open the chat: ${platform.url}/`);
console.log(`  ${platform.gatewayUrls.length} gateways share that port; each also on its own, for debugging: ${platform.gatewayUrls.join('  ')}`);
console.log(
  options.auth === 'dev'
    ? '  identity: DEV MODE, anyone can log in as any name (no password); --auth jwt turns that off'
    : `  identity: jwt, HS256 tokens signed with ${options.dataDir}/token-secret (iss chorus, aud chorus)`,
);
console.log(`  metrics and admin (POST /admin/revoke, Bearer ${options.dataDir}/admin-token): ${platform.gatewayMetricsUrls.join(' ')}`);
console.log(`  NATS ${platform.natsUrl}   Redis ${platform.redisUrl}   MongoDB ${platform.mongoUri}`);
// The Jaeger built from its Go module has no UI pages (docs/observability.md): point at the API.
if (platform.jaegerUrl) console.log(`  tracing: Jaeger query API ${platform.jaegerUrl}/api/traces/<trace id>, /api/services`);
console.log(`  batching: ${options.batching === 'auto' ? 'auto (autopilot)' : `${options.batchSize} messages / ${options.flushInterval} ms`}; logs in ${options.dataDir}/logs`);
console.log('Press Ctrl-C to stop every process.');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping ...');
    void platform.stop().finally(() => {
      console.log('Stopped.');
      process.exit(0);
    });
  });
}
