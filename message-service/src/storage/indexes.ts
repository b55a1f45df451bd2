import type { Collections } from './collections.js';

/**
 * Creates the indexes the service queries by; createIndex is a no-op when the same index exists,
 * so every replica runs this at start-up.
 * - messages (room, pos) unique: history pages and head look-ups. Message id uniqueness is _id.
 * - memberships by room (members) and by user (rooms of a user).
 * - edit leases by room (room info) and by session (a closed connection's leases).
 * Memberships written before states and roles existed become plain members (idempotent).
 */
export async function ensureIndexes(collections: Collections): Promise<void> {
  await Promise.all([
    collections.messages.createIndex({ room: 1, pos: 1 }, { unique: true, name: 'room_pos' }),
    collections.memberships.createIndex({ room: 1 }, { name: 'room' }),
    collections.memberships.createIndex({ user: 1 }, { name: 'user' }),
    collections.leases.createIndex({ room: 1 }, { name: 'room' }),
    collections.leases.createIndex({ session: 1 }, { name: 'session' }),
  ]);
  await collections.memberships.updateMany(
    { state: { $exists: false } },
    { $set: { state: 'member', role: 'member', readFrom: 0, fence: 0 } },
  );
}
