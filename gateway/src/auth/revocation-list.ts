import type { Redis } from 'ioredis';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { z } from 'zod';
import { subjects } from '@chorus/shared/bus/names';
import { protocolLimits } from '@chorus/shared/protocol/limits';
import type { Logger } from '@chorus/shared/logging/logger';
import type { VerifiedToken } from './verified-token.js';

/** What an admin revokes: every token of a user issued up to now, or one token by its `jti`. */
export const revocationRequest = z.union([
  z.strictObject({ user: z.string().regex(protocolLimits.userNamePattern, 'user must be 1-32 characters of A-Z a-z 0-9 _ . -') }),
  z.strictObject({ jti: z.string().min(1).max(128) }),
]);
export type RevocationRequest = z.infer<typeof revocationRequest>;

/** The broadcast every gateway receives; `revokedAt` in seconds (user revocations compare it to iat). */
const revocationNotice = z.union([
  z.strictObject({ user: z.string().regex(protocolLimits.userNamePattern), revokedAt: z.number().int().min(0) }),
  z.strictObject({ jti: z.string().min(1).max(128), revokedAt: z.number().int().min(0) }),
]);
type RevocationNotice = z.infer<typeof revocationNotice>;

const userKey = (user: string) => `chorus:revoked:user:${user}`;
const tokenKey = (jti: string) => `chorus:revoked:jti:${jti}`;

/**
 * Revoked users and token ids, shared by every gateway. Entries live in Redis with a TTL of the
 * longest accepted token lifetime: after it, every token they could match has expired anyway, so
 * the list stays bounded. A NATS broadcast lets every gateway close the matching live sockets at once.
 */
export class RevocationList {
  private subscription: Subscription | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly nc: NatsConnection,
    /** How long an entry is kept (seconds): the longest token lifetime plus the clock tolerance. */
    private readonly entryTtlSeconds: number,
    private readonly log: Logger,
  ) {}

  /** Calls `onRevoked` for each revocation any gateway records. */
  listen(onRevoked: (matches: (token: VerifiedToken) => boolean) => void): void {
    this.subscription = this.nc.subscribe(subjects.tokenRevoked, {
      callback: (error, message) => {
        if (error) return;
        let notice: RevocationNotice;
        try {
          notice = revocationNotice.parse(message.json());
        } catch {
          return this.log.warn({ subject: message.subject }, 'ignored a malformed revocation notice');
        }
        onRevoked((token) => noticeMatches(notice, token));
      },
    });
  }

  async revoke(request: RevocationRequest): Promise<void> {
    const revokedAt = Math.floor(Date.now() / 1000);
    const notice: RevocationNotice = 'user' in request ? { user: request.user, revokedAt } : { jti: request.jti, revokedAt };
    const key = 'user' in request ? userKey(request.user) : tokenKey(request.jti);
    await this.redis.set(key, String(revokedAt), 'EX', this.entryTtlSeconds);
    this.nc.publish(subjects.tokenRevoked, JSON.stringify(notice));
    await this.nc.flush();
  }

  /** Whether a token is revoked (checked at connect and on refresh); throws when Redis is unreachable. */
  async isRevoked(token: VerifiedToken): Promise<boolean> {
    const [userRevokedAt, tokenRevoked] = await this.redis.mget(userKey(token.user), token.tokenId ? tokenKey(token.tokenId) : '-');
    if (tokenRevoked && token.tokenId) return true;
    return userRevokedAt != null && issuedBy(token, Number(userRevokedAt));
  }

  close(): void {
    this.subscription?.unsubscribe();
  }
}

function noticeMatches(notice: RevocationNotice, token: VerifiedToken): boolean {
  if ('jti' in notice) return token.tokenId === notice.jti;
  return token.user === notice.user && issuedBy(token, notice.revokedAt);
}

/** A token without `iat` counts as issued before any revocation of its user. */
function issuedBy(token: VerifiedToken, revokedAt: number): boolean {
  return token.issuedAt === undefined || token.issuedAt <= revokedAt;
}
