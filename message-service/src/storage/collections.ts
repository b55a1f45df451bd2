import type { Collection, Db } from 'mongodb';
import type { HistoryVisibility, RoomVisibility } from '@chorus/shared/protocol/room-rules';

/**
 * One stored chat message. `_id` is the message id, so the primary key dedupes redeliveries and
 * answers resend look-ups; `pos` is its stream sequence (its position in the room), unique per
 * room. A message id stored a second time at a later position (a client reused its clientMsgId
 * without `resend` after JetStream's duplicate window) is a second message of the room: it is
 * stored as `<id>@<pos>` with `id` naming the message id, so MongoDB holds what the stream holds.
 */
export interface MessageDoc {
  _id: string;
  /** The message id when `_id` is not it (a later copy). */
  id?: string;
  room: string;
  pos: number;
  sender: string;
  text: string;
  /** When the gateway accepted the message (ms since epoch). */
  ts: number;
  clientMsgId: string;
  storedAt: Date;
}

/** Settings absent from rooms created before they existed read as their defaults (public, all). */
export interface RoomDoc {
  _id: string;
  createdBy: string;
  createdAt: Date;
  /** The one owner; absent in older rooms, whose owner is `createdBy`. */
  owner?: string;
  name?: string;
  topic?: string;
  visibility?: RoomVisibility;
  history?: HistoryVisibility;
  /** Last fencing token handed out in this room (every lease acquire increments it). */
  fenceSeq?: number;
  /** Fencing token of the last settings write: an older token's write is refused. */
  settingsFence?: number;
}

/**
 * One membership per document rather than a members array in the room: rooms with many members
 * stay small documents, "rooms of a user" is a plain indexed query, and join is an idempotent
 * upsert on a deterministic _id.
 */
export interface MembershipDoc {
  /** `<room>/<user>`: neither alphabet contains '/'. */
  _id: string;
  room: string;
  user: string;
  /**
   * One document holds the whole relation of a user to a room, so every change is one atomic
   * conditional update of it. `none`: left or removed (kept for its fence).
   */
  state: 'member' | 'invited' | 'banned' | 'none';
  /** `owner` is never stored here: the room's `owner` field is the one source of it. */
  role: 'admin' | 'member';
  joinedAt: Date;
  /** The member reads messages after this position only (0 = all). */
  readFrom: number;
  /** Fencing token of the last admin write to this document. */
  fence: number;
}

/** One edit lease: the settings of a room or one member's entry, held by one session. */
export interface EditLeaseDoc {
  /** `<room>/<target>`. */
  _id: string;
  room: string;
  target: string;
  holder: string;
  session: string;
  fence: number;
  /** ms since the epoch. */
  expiresAt: number;
}

/**
 * A count of memberships kept beside them so a quota check reads one document by _id instead of
 * counting (`room/<room>`: members of a room, `user/<user>`: rooms of a user). Only an estimate:
 * rpc/room-limits.ts counts exactly near a limit and when the estimate is old.
 */
export interface MembershipCountDoc {
  _id: string;
  n: number;
  /** When n was last counted exactly (ms since epoch). */
  countedAt: number;
}

export interface Collections {
  messages: Collection<MessageDoc>;
  rooms: Collection<RoomDoc>;
  memberships: Collection<MembershipDoc>;
  leases: Collection<EditLeaseDoc>;
  membershipCounts: Collection<MembershipCountDoc>;
}

/** The MongoDB collection behind each of them. */
export const collectionNames: Record<keyof Collections, string> = {
  messages: 'messages',
  rooms: 'rooms',
  memberships: 'memberships',
  leases: 'edit_leases',
  membershipCounts: 'membership_counts',
};

export function collectionsOf(db: Db): Collections {
  return {
    messages: db.collection<MessageDoc>(collectionNames.messages),
    rooms: db.collection<RoomDoc>(collectionNames.rooms),
    memberships: db.collection<MembershipDoc>(collectionNames.memberships),
    leases: db.collection<EditLeaseDoc>(collectionNames.leases),
    membershipCounts: db.collection<MembershipCountDoc>(collectionNames.membershipCounts),
  };
}

export const membershipId = (room: string, user: string): string => `${room}/${user}`;
export const leaseId = (room: string, target: string): string => `${room}/${target}`;
