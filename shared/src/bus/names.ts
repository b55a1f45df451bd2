/**
 * Every NATS name the services agree on. The operator reads queue depth from the same stream and
 * consumer and writes live settings to the same KV bucket.
 */
export const streamName = 'CHORUS_MESSAGES';
/** Durable pull consumer shared by every message-service replica. */
export const consumerName = 'message-service';
/** Queue group for request/reply handled by message-service replicas. */
export const rpcQueueGroup = 'message-service';
/** KV bucket with live settings; the message-services watch it. */
export const settingsBucket = 'chorus_settings';
export const batchingKey = 'batching';

export const subjects = {
  /** JetStream input, one subject per room: chorus.in.<room>. */
  inbound: (room: string) => `chorus.in.${room}`,
  inboundAll: 'chorus.in.>',
  /** Core NATS fan-out after the database write: chorus.out.<room>. */
  fanout: (room: string) => `chorus.out.${room}`,
  /** Membership changed in a room: gateways drop their cached members. */
  membership: (room: string) => `chorus.membership.${room}`,
  membershipAll: 'chorus.membership.*',
  /** A user came online or went offline in a room. */
  presence: (room: string) => `chorus.presence.${room}`,
  historyRpc: 'chorus.rpc.history',
  roomsRpc: 'chorus.rpc.rooms',
} as const;

/** Room id from a `chorus.<kind>.<room>` subject. */
export function roomFromSubject(subject: string): string {
  return subject.slice(subject.indexOf('.', 'chorus.'.length) + 1);
}
