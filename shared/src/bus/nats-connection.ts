import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface ConnectNatsOptions {
  /** Give up after this long when the server is not reachable at start (default: wait forever). */
  firstConnectTimeoutMs?: number;
}

/**
 * Connects to NATS the way every Chorus process does: it waits for the server at start-up (so a
 * pod that starts before NATS does not crash-loop) and then reconnects forever, because every
 * service is useless without the bus and should heal by itself when NATS comes back.
 */
export async function connectNats(url: string, name: string, options: ConnectNatsOptions = {}): Promise<NatsConnection> {
  const servers = url.split(',').map((s) => s.trim()).filter(Boolean);
  const attempt = connect({
    servers,
    name,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    reconnectTimeWait: 500,
    // Otherwise every request (each JetStream publish, each RPC) captures two stack traces up
    // front in case it fails: ~10% of a gateway's CPU under load, measured. Errors keep their text.
    noAsyncTraces: true,
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
