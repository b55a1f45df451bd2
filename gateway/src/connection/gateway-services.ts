import type { Logger } from '@chorus/shared/logging/logger';
import type { RevocationList } from '../auth/revocation-list.js';
import type { TokenVerifier } from '../auth/verified-token.js';
import type { GatewayMetrics } from '../http/gateway-metrics.js';
import type { MessageServiceClient } from '../backend/message-service-client.js';
import type { MessagePublisher } from '../publish/message-publisher.js';
import type { Presence } from '../presence/presence.js';
import type { MembershipCache } from '../rooms/membership-cache.js';
import type { RoomHub } from '../ordering/room-hub.js';
import type { RoomReader } from '../ordering/room-reader.js';
import type { FrameLimits } from '../limits/frame-limiter.js';

/** What a client connection needs from the gateway; one instance shared by every socket. */
export interface GatewayServices {
  gatewayId: string;
  log: Logger;
  backend: Pick<MessageServiceClient, 'rooms' | 'history' | 'lookup' | 'roomAdmin'>;
  membership: Pick<MembershipCache, 'isMember' | 'created' | 'changed'>;
  publisher: MessagePublisher;
  hub: RoomHub;
  reader: RoomReader;
  presence: Presence;
  metrics: GatewayMetrics;
  /** Checks the token of a `refresh` frame; the tolerance extends a socket past exp like the verifier does. */
  auth: { verifier: TokenVerifier; revocations: Pick<RevocationList, 'isRevoked'>; clockToleranceSeconds: number };
  maxFrameBytes: number;
  /** A socket whose unsent output exceeds this is closed as a slow consumer (it resumes later). */
  maxBufferedBytes: number;
  /** Rooms one socket may be in at once. */
  maxRoomsPerSocket: number;
  /** Rate limits of every socket's frames (per socket and per user). */
  frameLimits: Pick<FrameLimits, 'open'>;
}
