import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The gateway of the version under test, from the same image (or checkout) as this program. */
const gatewayMain = fileURLToPath(new URL('../../../../gateway/dist/src/main.js', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface CanaryGateway {
  url: string;
  /** Its last output lines, for a failure's detail. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * A gateway process of this version on 127.0.0.1 inside the preflight's pod, joined to the live
 * NATS and Redis. It has its own random signing key and the name-only login, so only this program
 * can log in to it and its tokens are worth nothing at the platform's gateways.
 */
export async function startCanaryGateway(env: { natsUrl: string; redisUrl: string; redisPassword?: string | undefined; id: string }, deadlineMs: number): Promise<CanaryGateway> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, [gatewayMain], {
    env: {
      PATH: process.env.PATH,
      NATS_URL: env.natsUrl,
      // The preflight's own NATS user: a gateway's rights, under its own inbox prefix.
      ...(process.env.NATS_USER && { NATS_USER: process.env.NATS_USER, NATS_PASSWORD: process.env.NATS_PASSWORD }),
      REDIS_URL: env.redisUrl,
      ...(env.redisPassword && { REDIS_PASSWORD: env.redisPassword }),
      PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_PORT: '0',
      GATEWAY_ID: env.id,
      AUTH_MODE: 'dev',
      AUTH_HS256_SECRET: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 20));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (exited !== undefined) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (exited !== undefined) throw new Error(`the canary gateway exited with code ${exited}: ${lines.slice(-5).join(' | ')}`);
    try {
      if ((await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) })).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) {
      await stop();
      throw new Error(`the canary gateway was not ready within ${deadlineMs} ms: ${lines.slice(-5).join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, output: () => lines.join('\n'), stop };
}
