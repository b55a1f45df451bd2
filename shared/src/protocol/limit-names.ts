/**
 * Names of the abuse limits, as carried in the `limit` field of `rate_limited` and
 * `limit_exceeded` errors. Each is described, with its default and its env variable, in docs/limits.md.
 */
export const limitNames = {
  /** `send` frames per socket (token bucket). */
  socketSends: 'socketSends',
  /** `send` frames per user, over all of the user's sockets on one gateway (token bucket). */
  userSends: 'userSends',
  /** Every frame other than a valid `send`, per socket (token bucket). */
  socketFrames: 'socketFrames',
  /** Open sockets per user, over the whole cluster. */
  socketsPerUser: 'socketsPerUser',
  /** Rooms one socket is in at once. */
  roomsPerSocket: 'roomsPerSocket',
  /** Rooms a user created in the last hour. */
  roomsCreatedPerHour: 'roomsCreatedPerHour',
  /** Rooms a user is a member of. */
  roomsPerUser: 'roomsPerUser',
  /** Members of one room. */
  membersPerRoom: 'membersPerRoom',
} as const;

export type LimitName = (typeof limitNames)[keyof typeof limitNames];
