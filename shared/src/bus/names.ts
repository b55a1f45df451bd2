/**
 * Every NATS name the services agree on. The operator reads queue depth from the same stream and
 * consumer and writes live settings to the same KV bucket.
 */
export const streamName = 'CHORUS_MESSAGES';
/** Durable pull consumer shared by every message-service replica: the MongoDB writer. */
export const consumerName = 'message-service';
/** Queue group for request/reply handled by message-service replicas. */
export const rpcQueueGroup = 'message-service';
/** KV bucket with live settings; the message-services watch it. */
export const settingsBucket = 'chorus_settings';
export const batchingKey = 'batching';

export const subjects = {
  /** JetStream input, one subject per room: chorus.in.<room>. A room's order is this subject's order in the stream. */
  inbound: (room: string) => `chorus.in.${room}`,
  inboundAll: 'chorus.in.>',
  /**
   * The stream republishes every stored message here (core NATS, at most once) with its stream
   * sequence and the previous sequence of the same room in headers: the gateways' live feed.
   */
  live: (room: string) => `chorus.live.${room}`,
  liveAll: 'chorus.live.>',
  /** Membership changed in a room: gateways drop their cached members. */
  membership: (room: string) => `chorus.membership.${room}`,
  membershipAll: 'chorus.membership.*',
  /** A user came online or went offline in a room. */
  presence: (room: string) => `chorus.presence.${room}`,
  historyRpc: 'chorus.rpc.history',
  roomsRpc: 'chorus.rpc.rooms',
  /** A user or token id was revoked: every gateway closes the matching live sockets. */
  tokenRevoked: 'chorus.auth.revoked',
  /** Roles, invites, bans, settings and edit leases of a room. */
  roomAdminRpc: 'chorus.rpc.roomAdmin',
  /** Has this message id been stored, and where? (a resend's look-up) */
  lookupRpc: 'chorus.rpc.lookup',
} as const;

/** Room id from a `chorus.<kind>.<room>` subject. */
export function roomFromSubject(subject: string): string {
  return subject.slice(subject.indexOf('.', 'chorus.'.length) + 1);
}

/** Headers the stream's RePublish sets on each live copy. */
export const republishHeaders = {
  sequence: 'Nats-Sequence',
  lastSequence: 'Nats-Last-Sequence',
} as const;

/** Header carrying an RPC's deadline (ms since the epoch): work whose caller has gone is dropped. */
export const deadlineHeader = 'Chorus-Deadline';
