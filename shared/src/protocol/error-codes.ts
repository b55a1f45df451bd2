/** Codes carried by `error` frames. Clients switch on these; messages are for people. */
export const errorCodes = [
  'bad_json', // the frame is not JSON
  'frame_too_large', // the frame exceeds the size limit
  'invalid_frame', // JSON, but not a valid frame of its type (field missing, wrong type, too long)
  'unknown_type', // `type` is not one the protocol knows
  'binary_not_supported', // binary frames are not part of the protocol
  'not_member', // the user is not a member of the room
  'room_not_found',
  'room_exists',
  'unavailable', // a backend (queue, database) did not answer in time; safe to retry
  'catchup_failed', // a room's missed messages could not be read; join again with `after`
  'rate_limited', // too many frames too fast; `retryAfterMs` says when the next one is accepted
  'limit_exceeded', // a quota (rooms, members, sockets) is used up; `limit` names it
  'invalid_token', // a refresh token that is invalid, expired, revoked or for another user
  'forbidden', // the user's role in the room does not allow this
  'not_invited', // the room is private and the user has no invite
  'banned', // the user is banned from the room
  'already_member', // invite or add of a user who is a member
  'owner_must_transfer', // the owner cannot leave (or be removed) before transferring ownership
  'lease_held', // another session holds the edit lease; `holder` names its user
  'lease_expired', // the write's lease expired or was released; acquire it again
  'stale_fence', // the write's fencing token is older than the target's last write or the current lease
  'internal',
] as const;

export type ErrorCode = (typeof errorCodes)[number];
