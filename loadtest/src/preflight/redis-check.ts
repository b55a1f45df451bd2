import { Redis } from 'ioredis';
import type { CheckResult } from './check-result.js';

/** Presence, socket quotas and revocations live in Redis: it must answer. */
export async function checkRedis(url: string, password: string | undefined, timeoutMs: number): Promise<CheckResult> {
  const name = 'redis';
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, commandTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, ...(password && { password }) });
  redis.on('error', () => {}); // the awaited command reports it
  try {
    await redis.connect();
    const info = await redis.info('server');
    const version = /redis_version:([0-9.]+)/.exec(info)?.[1] ?? 'unknown';
    return { name, ok: true, detail: `redis ${version} answers` };
  } catch (error) {
    return { name, ok: false, detail: `${url.replace(/\/\/[^@]*@/, '//***@')}: ${(error as Error).message}` };
  } finally {
    redis.disconnect();
  }
}
