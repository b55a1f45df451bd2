import type { Collections } from './collections.js';

/** One index the service queries by; the preflight of an upgrade checks a live database has it or can get it. */
export interface RequiredIndex {
  collection: keyof Collections;
  name: string;
  key: Record<string, 1 | -1>;
  unique?: boolean;
}

/**
 * - messages (room, pos) unique: history pages and head look-ups. Message id uniqueness is _id.
 * - memberships by room (members) and by user (rooms of a user); both also count for the quotas.
 * - rooms by (createdBy, createdAt): rooms a user created in the last hour (a quota).
 * - edit leases by room (room info) and by session (a closed connection's leases).
 */
export const requiredIndexes: readonly RequiredIndex[] = [
  { collection: 'messages', name: 'room_pos', key: { room: 1, pos: 1 }, unique: true },
  { collection: 'memberships', name: 'room', key: { room: 1 } },
  { collection: 'memberships', name: 'user', key: { user: 1 } },
  { collection: 'rooms', name: 'created_by', key: { createdBy: 1, createdAt: 1 } },
  { collection: 'leases', name: 'room', key: { room: 1 } },
  { collection: 'leases', name: 'session', key: { session: 1 } },
];

/**
 * Creates the indexes above; createIndex is a no-op when the same index exists (and fails when
 * one of that name exists with another key or options), so every replica runs this at start-up.
 * Memberships written before states and roles existed become plain members (idempotent).
 */
export async function ensureIndexes(collections: Collections): Promise<void> {
  await Promise.all(
    requiredIndexes.map((index) =>
      collections[index.collection].createIndex(index.key, { name: index.name, ...(index.unique && { unique: true }) }),
    ),
  );
  await collections.memberships.updateMany(
    { state: { $exists: false } },
    { $set: { state: 'member', role: 'member', readFrom: 0, fence: 0 } },
  );
}
