import { connect, PermissionViolationError, type NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { readEnv } from '../config/env.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { inboxPrefixOf, natsUsers, type NatsUser } from './nats-permissions.js';

/** A NATS user of the permission table (nats-permissions.ts) and its password. */
export interface NatsCredentials {
  user: NatsUser;
  password: string;
}

const credentialsEnv = z
  .object({
    NATS_USER: z.enum(natsUsers).optional(),
    NATS_PASSWORD: z.string().min(1).optional(),
  })
  .refine((env) => (env.NATS_USER === undefined) === (env.NATS_PASSWORD === undefined), {
    message: 'NATS_USER and NATS_PASSWORD go together: set both or neither',
  });

/**
 * The process's NATS identity from NATS_USER / NATS_PASSWORD; undefined when neither is set (a
 * server without authorization, as in the packages' own tests). The one place that reads them.
 */
export function natsCredentialsFromEnv(env: NodeJS.ProcessEnv = process.env): NatsCredentials | undefined {
  const parsed = readEnv(credentialsEnv, env);
  return parsed.NATS_USER ? { user: parsed.NATS_USER, password: parsed.NATS_PASSWORD! } : undefined;
}

export interface ConnectNatsOptions {
  /** Give up after this long when the server is not reachable at start (default: wait forever). */
  firstConnectTimeoutMs?: number;
  /** Who to connect as; absent: natsCredentialsFromEnv(), null: anonymously. */
  credentials?: NatsCredentials | null;
  /** Where permission violations and other server errors are logged (default: a `nats` logger). */
  logger?: Logger;
}

/**
 * Connects to NATS the way every Chorus process does: it waits for the server at start-up (so a
 * pod that starts before NATS does not crash-loop) and then reconnects forever, because every
 * service is useless without the bus and should heal by itself when NATS comes back.
 */
export async function connectNats(url: string, name: string, options: ConnectNatsOptions = {}): Promise<NatsConnection> {
  const servers = url.split(',').map((s) => s.trim()).filter(Boolean);
  const credentials = options.credentials === undefined ? natsCredentialsFromEnv() : options.credentials;
  const attempt = connect({
    servers,
    name,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    reconnectTimeWait: 500,
    // Otherwise every request (each JetStream publish, each RPC) captures two stack traces up
    // front in case it fails: ~10% of a gateway's CPU under load, measured. Errors keep their text.
    noAsyncTraces: true,
    ...natsAuthOptions(credentials),
  }).then((nc) => {
    logServerErrors(nc, options.logger ?? createLogger('nats', { connection: name }));
    return nc;
  });
  if (options.firstConnectTimeoutMs === undefined) return attempt;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`NATS at ${url} not reachable within ${options.firstConnectTimeoutMs} ms`)),
      options.firstConnectTimeoutMs,
    );
  });
  try {
    return await Promise.race([attempt, timeout]);
  } catch (error) {
    // The connect attempt keeps retrying; close it once it lands so it does not leak.
    attempt.then((nc) => nc.close()).catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Connect options of a user: user/pass, and replies under the user's own inbox prefix, the only
 * one its permissions let it subscribe to. For connections made with nats.js's connect() directly.
 */
export function natsAuthOptions(credentials: NatsCredentials | null | undefined): { user?: string; pass?: string; inboxPrefix?: string } {
  return credentials ? { user: credentials.user, pass: credentials.password, inboxPrefix: inboxPrefixOf(credentials.user) } : {};
}

/**
 * A permission violation is a bug or a missing entry in the permission table, not a reason to
 * stop: the server refuses that one publish or subscription and the connection goes on. Say
 * clearly which subject was refused.
 */
export function logServerErrors(nc: NatsConnection, log: Logger): void {
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type !== 'error') continue;
      const error = status.error;
      if (error instanceof PermissionViolationError) {
        log.error({ operation: error.operation, subject: error.subject, ...(error.queue && { queue: error.queue }) }, `NATS refused this ${error.operation} (permissions violation): ${error.subject}`);
      } else {
        log.warn({ err: error }, 'NATS server error');
      }
    }
  })().catch(() => {});
}

/**
 * The inbox prefix a connection was opened with (`_INBOX` by default), for reply subjects made by
 * hand. nats.js's own request() and JetStream clients read the same option of the connection.
 */
export function inboxPrefixOfConnection(nc: NatsConnection): string {
  return (nc as NatsConnection & { options?: { inboxPrefix?: string } }).options?.inboxPrefix || '_INBOX';
}
