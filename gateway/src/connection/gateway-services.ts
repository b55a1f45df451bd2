import type { Logger } from '@chorus/shared/logging/logger';
import type { GatewayMetrics } from '../http/gateway-metrics.js';
import type { MessageServiceClient } from '../backend/message-service-client.js';
import type { MessageEnqueuer } from '../enqueue/message-enqueuer.js';
import type { RoomSequencer } from '../enqueue/room-sequencer.js';
import type { PresenceTracker } from '../presence/presence-tracker.js';
import type { MembershipCache } from '../rooms/membership-cache.js';
import type { RoomHub } from '../rooms/room-hub.js';

/** What a client connection needs from the gateway; one instance shared by every socket. */
export interface GatewayServices {
  gatewayId: string;
  log: Logger;
  backend: MessageServiceClient;
  membership: MembershipCache;
  sequencer: RoomSequencer;
  enqueuer: MessageEnqueuer;
  hub: RoomHub;
  presence: PresenceTracker;
  metrics: GatewayMetrics;
  maxFrameBytes: number;
  /** A socket whose unsent output exceeds this is closed as a slow consumer (it resumes later). */
  maxBufferedBytes: number;
}
