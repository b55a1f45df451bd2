import type { Collections } from './collections.js';

/**
 * Creates the indexes the service queries by; createIndex is a no-op when the same index exists,
 * so every replica runs this at start-up.
 * - messages (room, seq) unique: history pages and head look-ups, and a second guard against two
 *   messages claiming one seq. Message id uniqueness is the _id index.
 * - memberships by room (members) and by user (rooms of a user).
 */
export async function ensureIndexes(collections: Collections): Promise<void> {
  await Promise.all([
    collections.messages.createIndex({ room: 1, seq: 1 }, { unique: true, name: 'room_seq' }),
    collections.memberships.createIndex({ room: 1 }, { name: 'room' }),
    collections.memberships.createIndex({ user: 1 }, { name: 'user' }),
  ]);
}
