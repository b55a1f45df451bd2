import type { Collection, Db } from 'mongodb';

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

export interface RoomDoc {
  _id: string;
  createdBy: string;
  createdAt: Date;
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
  joinedAt: Date;
}

export interface Collections {
  messages: Collection<MessageDoc>;
  rooms: Collection<RoomDoc>;
  memberships: Collection<MembershipDoc>;
}

export function collectionsOf(db: Db): Collections {
  return {
    messages: db.collection<MessageDoc>('messages'),
    rooms: db.collection<RoomDoc>('rooms'),
    memberships: db.collection<MembershipDoc>('memberships'),
  };
}

export const membershipId = (room: string, user: string): string => `${room}/${user}`;
