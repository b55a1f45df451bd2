import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { batchingKey } from '@chorus/shared/bus/names';
import { ensureMessageStream, ensureSettingsBucket } from '@chorus/shared/bus/jetstream-setup';
import { connectNats, type NatsCredentials } from '@chorus/shared/bus/nats-connection';
import { natsUsers, newNatsPassword, type NatsUser } from '@chorus/shared/bus/nats-permissions';
import { createLogger, type Logger } from '@chorus/shared/logging/logger';
import { batchSettings, defaultBatchSettings, type BatchSettings } from '@chorus/shared/batching/batch-settings';
import { startAutopilotLoop } from './autopilot-loop.js';
import { repoRoot } from './servers/binaries.js';
import { startMongo } from './servers/ferretdb.js';
import { freePort } from './servers/free-port.js';
import { forkGatewayWorker } from './servers/gateway-worker.js';
import { httpReady, ManagedProcess } from './servers/managed-process.js';
import { startJaeger, type RunningJaeger } from './servers/jaeger.js';
import { startNats, type RunningNats } from './servers/nats.js';
import { startRedis } from './servers/redis.js';
import { limitEnv, type LimitEnv } from './limit-env.js';
import { defaultRestartPolicy, Supervisor, type RestartPolicy } from './servers/supervisor.js';

export interface PlatformOptions {
  /** Everything persistent (JetStream, Redis AOF, SQLite, logs) lives here. */
  dataDir: string;
  gateways?: number;
  messageServices?: number;
  /** Port of the first gateway; the others take the next ones. 0 or absent: free ports. */
  gatewayPort?: number;
  /**
   * One port for every gateway (0: a free one): the gateways run as cluster workers of this
   * process, which hands each connection on that port to the next gateway (npm start).
   */
  sharedPort?: number;
  /** Ports of the servers; 0 or absent: free ports. */
  natsPort?: number;
  redisPort?: number;
  mongoPort?: number;
  /** Fixed batching written to KV at start, or 'auto' to run the autopilot loop (default: fixed 100/50). */
  batching?: BatchSettings | 'auto';
  /** Keep Redis data across restarts (npm start); tests leave it off. */
  persistRedis?: boolean;
  /** The writer's ack_wait in ms (default 30 s); tests shorten it so a crashed writer's batch comes back soon. */
  ackWaitMs?: number;
  /** Abuse limits of the gateways and message-services (docs/limits.md); absent = their defaults. */
  limits?: LimitEnv;
  /**
   * dev (the default here): the gateways' name-only login is on. jwt: it is off, and the gateways
   * accept HS256 tokens signed with `tokenSecret` (iss `chorus`, aud `chorus`), as an
   * application backend would issue them.
   */
  authMode?: 'dev' | 'jwt';
  /** Restart every process that crashes, with backoff (npm start); tests that inject faults leave it off. */
  supervise?: boolean | RestartPolicy;
  /**
   * Start a Jaeger all-in-one on 127.0.0.1 and export every service's spans to it (OTLP/HTTP).
   * `queryPort` fixes the port of its query API (default: a free one).
   */
  tracing?: boolean | { queryPort?: number };
  /** Extra environment for the service processes (e.g. OTEL_*). */
  serviceEnv?: NodeJS.ProcessEnv;
  /** Where a service (`gateway-1`, ...) reaches NATS; default the server itself (the chaos suite puts a relay in front of one). */
  natsUrlFor?: (service: string, natsUrl: string) => string;
  logger?: Logger;
}

export interface PlatformProcess {
  name: string;
  pid: number | undefined;
}

export interface Platform {
  /** The platform's one address: the shared port, or the first gateway without one. */
  url: string;
  /** Each gateway's own address. */
  gatewayUrls: string[];
  /** Each gateway's internal port (/metrics, health, POST /admin/revoke), same order. */
  gatewayMetricsUrls: string[];
  natsUrl: string;
  /**
   * Every NATS user's credentials: the nats-server runs with the users and permissions of
   * nats-permissions.ts and refuses anonymous clients, as a ChatCluster's does.
   */
  natsCredentials: Record<NatsUser, NatsCredentials>;
  redisUrl: string;
  /** Redis's generated password (every gateway gets it as REDIS_PASSWORD). */
  redisPassword: string;
  mongoUri: string;
  /** With `tracing`: Jaeger's query API (`/api/traces/<id>`). */
  jaegerUrl?: string;
  /** The gateways' HS256 key (dev: they sign with it; jwt: they verify with it). */
  tokenSecret: string;
  /** Bearer secret of POST /admin/revoke on the gateways' internal ports. */
  adminToken: string;
  /** Every process the platform started (servers and services), for CPU accounting. */
  processes(): PlatformProcess[];
  /** Kills a service process by name (e.g. `message-service-1`) with SIGKILL, as a crash would. */
  crash(name: string): Promise<void>;
  /** Starts a crashed or stopped service process again and waits until it is ready. */
  restart(name: string): Promise<void>;
  /**
   * Any process of the platform by name (`nats-server`, `redis-server`, `ferretdb`, or a service),
   * for fault injection: signal it, stop it (SIGTERM, then SIGKILL after graceMs), kill it, start it
   * again on the same ports and data (start waits until it is ready).
   */
  control(name: string): ProcessControl;
  /** Writes batching settings to KV (the message-services apply them live). */
  setBatching(settings: BatchSettings): Promise<void>;
  stop(): Promise<void>;
}

export type ProcessControl = Pick<ManagedProcess, 'name' | 'pid' | 'signal' | 'stop' | 'kill' | 'start'>;

const gatewayMain = join(repoRoot, 'gateway', 'dist', 'src', 'main.js');
const messageServiceMain = join(repoRoot, 'message-service', 'dist', 'src', 'main.js');

/**
 * Starts the whole platform on 127.0.0.1 as local processes: nats-server (JetStream), redis-server,
 * FerretDB (or MONGODB_URI), N gateways and M message-services. Stops everything it started, in
 * reverse order, on stop() — also when start-up fails half-way.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const log = options.logger ?? createLogger('platform');
  const logDir = join(options.dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const services: ManagedProcess[] = [];
  let nats: RunningNats | undefined;
  let nc: NatsConnection | undefined;
  let autopilot: { stop(): void } | undefined;
  const supervisor = options.supervise ? new Supervisor(log, options.supervise === true ? defaultRestartPolicy : options.supervise) : undefined;

  const stop = async () => {
    supervisor?.stop();
    autopilot?.stop();
    await nc?.close().catch(() => {});
    for (const fn of stops.reverse()) await fn().catch((error: unknown) => log.warn({ err: error }, 'stop failed'));
    stops.length = 0;
  };

  try {
    // Settled, not Promise.all: when one server fails to start, the others that did must still be
    // stopped, or their processes outlive this one (and keep a test runner waiting forever).
    const tracing = options.tracing === true ? {} : options.tracing || undefined;
    // New passwords on every start: nats.conf is written anew each time, and so is every service's env.
    const natsCredentials = Object.fromEntries(
      natsUsers.map((user) => [user, { user, password: newNatsPassword() }]),
    ) as Record<NatsUser, NatsCredentials>;
    const natsPasswords = Object.fromEntries(natsUsers.map((user) => [user, natsCredentials[user].password])) as Record<NatsUser, string>;
    const [natsStart, redisStart, mongoStart, jaegerStart] = await Promise.allSettled([
      startNats({ dataDir: join(options.dataDir, 'nats'), ...(options.natsPort && { port: options.natsPort }), logFile: join(logDir, 'nats.log'), passwords: natsPasswords }),
      startRedis({ dataDir: join(options.dataDir, 'redis'), ...(options.redisPort && { port: options.redisPort }), persist: options.persistRedis ?? false, logFile: join(logDir, 'redis.log') }),
      startMongo({ dataDir: join(options.dataDir, 'mongo'), ...(options.mongoPort && { port: options.mongoPort }), logFile: join(logDir, 'ferretdb.log') }),
      tracing ? startJaeger({ ...(tracing.queryPort && { queryPort: tracing.queryPort }), logFile: join(logDir, 'jaeger.log') }) : Promise.resolve(undefined),
    ]);
    for (const started of [natsStart, redisStart, mongoStart, jaegerStart]) if (started.status === 'fulfilled' && started.value) stops.push(() => started.value!.stop());
    if (natsStart.status === 'rejected') throw natsStart.reason;
    if (redisStart.status === 'rejected') throw redisStart.reason;
    if (mongoStart.status === 'rejected') throw mongoStart.reason;
    if (jaegerStart.status === 'rejected') throw jaegerStart.reason;
    const [startedNats, redis, mongo, jaeger] = [natsStart.value, redisStart.value, mongoStart.value, jaegerStart.value];
    nats = startedNats;

    // The stream and the writer's consumer belong to the message-service's user; the settings and
    // the autopilot's reads to the operator's, which the supervisor stands in for here.
    const setup = await connectNats(nats.url, 'chorus supervisor setup', { firstConnectTimeoutMs: 10_000, credentials: natsCredentials['message-service'] });
    try {
      await ensureMessageStream(setup, { ...(options.ackWaitMs !== undefined && { ackWaitMs: options.ackWaitMs }) });
    } finally {
      await setup.close();
    }
    nc = await connectNats(nats.url, 'chorus supervisor', { firstConnectTimeoutMs: 10_000, credentials: natsCredentials.operator });
    const kv = await ensureSettingsBucket(nc);
    if (options.batching !== 'auto') await putBatching(kv, options.batching ?? defaultBatchSettings);

    const tokenSecret = process.env.AUTH_HS256_SECRET ?? readOrCreateSecret(options.dataDir, 'token-secret');
    const adminToken = process.env.ADMIN_TOKEN ?? readOrCreateSecret(options.dataDir, 'admin-token');
    // A short gateway drain locally (production: 10 s), so Ctrl-C and tests do not wait long.
    const drainEnv = { DRAIN_WINDOW_MS: '1000', DRAIN_TIMEOUT_MS: '5000' };
    const baseEnv = {
      ...drainEnv,
      ...process.env,
      ...limitEnv(options.limits),
      ...(jaeger && tracingEnv(jaeger)),
      ...options.serviceEnv,
      NATS_URL: nats.url,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    };

    const workers = await Promise.all(
      Array.from({ length: options.messageServices ?? 2 }, async (_, i) => {
        const metricsPort = await freePort();
        const name = `message-service-${i + 1}`;
        return new ManagedProcess({
          name,
          command: process.execPath,
          args: [messageServiceMain],
          env: {
            ...baseEnv,
            NATS_URL: options.natsUrlFor?.(name, startedNats.url) ?? startedNats.url,
            MONGODB_URI: mongo.uri,
            MONGODB_DB: 'chorus',
            NATS_USER: 'message-service',
            NATS_PASSWORD: natsPasswords['message-service'],
            METRICS_PORT: String(metricsPort),
            SERVICE_INSTANCE: String(i + 1),
            ...(options.ackWaitMs !== undefined && { ACK_WAIT_MS: String(options.ackWaitMs) }),
          },
          logFile: join(logDir, `message-service-${i + 1}.log`),
          ready: httpReady(metricsPort, '/readyz'),
        });
      }),
    );
    const gatewayPorts = await Promise.all(
      Array.from({ length: options.gateways ?? 2 }, (_, i) => (options.gatewayPort ? options.gatewayPort + i : freePort())),
    );
    const sharedPort = options.sharedPort === 0 ? await freePort() : options.sharedPort;
    const gatewayMetricsPorts = await Promise.all(gatewayPorts.map(() => freePort()));
    const authEnv =
      (options.authMode ?? 'dev') === 'dev'
        ? { AUTH_MODE: 'dev' }
        : { AUTH_MODE: 'jwt', AUTH_ISSUER: 'chorus', AUTH_AUDIENCE: 'chorus' };
    const gateways = gatewayPorts.map(
      (port, i) =>
        new ManagedProcess({
          name: `gateway-${i + 1}`,
          command: process.execPath,
          args: [gatewayMain],
          ...(sharedPort !== undefined && { spawn: (env) => forkGatewayWorker(gatewayMain, env) }),
          env: {
            ...baseEnv,
            NATS_URL: options.natsUrlFor?.(`gateway-${i + 1}`, startedNats.url) ?? startedNats.url,
            ...authEnv,
            AUTH_HS256_SECRET: tokenSecret,
            ADMIN_TOKEN: adminToken,
            PORT: String(port),
            ...(sharedPort !== undefined && { SHARED_PORT: String(sharedPort) }),
            METRICS_PORT: String(gatewayMetricsPorts[i]),
            REDIS_URL: redis.url,
            NATS_USER: 'gateway',
            NATS_PASSWORD: natsPasswords.gateway,
            REDIS_PASSWORD: redis.password,
            GATEWAY_ID: `gateway-${i + 1}`,
          },
          logFile: join(logDir, `gateway-${i + 1}.log`),
          ready: httpReady(port, '/readyz'),
        }),
    );
    for (const service of [...workers, ...gateways]) {
      services.push(service);
      stops.push(() => service.stop(15_000));
    }
    await Promise.all([...workers, ...gateways].map((service) => service.start()));
    const servers = [startedNats.process, redis.process, mongo.process, jaeger?.process];
    if (supervisor) for (const child of [...servers, ...services]) if (child) supervisor.watch(child);
    if (options.batching === 'auto') autopilot = await startAutopilotLoop({ nc, kv, log });

    const gatewayUrls = gatewayPorts.map((port) => `http://127.0.0.1:${port}`);
    return {
      url: sharedPort !== undefined ? `http://127.0.0.1:${sharedPort}` : gatewayUrls[0]!,
      gatewayUrls,
      gatewayMetricsUrls: gatewayMetricsPorts.map((port) => `http://127.0.0.1:${port}`),
      natsUrl: nats.url,
      natsCredentials,
      redisUrl: redis.url,
      redisPassword: redis.password,
      mongoUri: mongo.uri,
      ...(jaeger && { jaegerUrl: jaeger.queryUrl }),
      tokenSecret,
      adminToken,
      processes: () =>
        [...servers, ...services]
          .filter((p): p is ManagedProcess => p !== undefined)
          .map((p) => ({ name: p.name, pid: p.pid })),
      crash: (name) => serviceNamed(services, name).kill(),
      restart: (name) => serviceNamed(services, name).start(),
      control: (name) => serviceNamed([...servers.filter((p): p is ManagedProcess => p !== undefined), ...services], name),
      setBatching: (settings) => putBatching(kv, settings),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Every service exports its spans to Jaeger; a short batch delay makes a trace show up within a second. */
function tracingEnv(jaeger: RunningJaeger): NodeJS.ProcessEnv {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpUrl,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_BSP_SCHEDULE_DELAY: process.env.OTEL_BSP_SCHEDULE_DELAY ?? '500',
  };
}

function serviceNamed(services: ManagedProcess[], name: string): ManagedProcess {
  const service = services.find((s) => s.name === name);
  if (!service) throw new Error(`no service named ${name}; there are ${services.map((s) => s.name).join(', ')}`);
  return service;
}

async function putBatching(kv: KV, settings: BatchSettings): Promise<void> {
  const valid = batchSettings.parse({ source: 'supervisor', ...settings });
  await kv.put(batchingKey, JSON.stringify(valid));
}

/** Secrets stay in the data dir, so sessions survive a restart of the platform. */
function readOrCreateSecret(dataDir: string, name: string): string {
  const path = join(dataDir, name);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(path, secret, { mode: 0o600 });
  return secret;
}
