import type { Db } from 'mongodb';
import { z } from 'zod';
import { requiredIndexes } from '@chorus/message-service/storage/indexes';
import { collectionNames } from '@chorus/message-service/storage/collections';
import type { CheckResult } from './check-result.js';

const sameKey = (a: Record<string, unknown>, b: Record<string, unknown>) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Every index this version creates at start-up: absent is fine (it is created), the same is fine;
 * one of the same name with another key or uniqueness, or the same key under another name, makes
 * createIndex fail, so the new message-services would not start.
 */
export async function checkIndexes(db: Db): Promise<CheckResult> {
  const name = 'mongodb.indexes';
  const problems: string[] = [];
  let present = 0;
  const existing = new Map<string, { name: string; key: Record<string, unknown>; unique?: boolean }[]>();
  const collections = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const index of requiredIndexes) {
    const collection = collectionNames[index.collection];
    if (!collections.has(collection)) continue;
    if (!existing.has(collection)) existing.set(collection, (await db.collection(collection).listIndexes().toArray()) as never);
    const live = existing.get(collection)!;
    const byName = live.find((i) => i.name === index.name);
    const byKey = live.find((i) => sameKey(i.key, index.key));
    const want = `${JSON.stringify(index.key)}${index.unique ? ' unique' : ''}`;
    if (byName && (!sameKey(byName.key, index.key) || Boolean(byName.unique) !== Boolean(index.unique))) {
      problems.push(`${collection}.${index.name} is ${JSON.stringify(byName.key)}${byName.unique ? ' unique' : ''}, this version needs ${want}`);
    } else if (!byName && byKey) {
      problems.push(`${collection} has ${want} named ${byKey.name}, this version names it ${index.name}`);
    } else if (byName) present++;
  }
  return problems.length
    ? { name, ok: false, detail: problems.join('; ') }
    : { name, ok: true, detail: `${present}/${requiredIndexes.length} indexes present as this version creates them, the rest absent (created at start-up)` };
}

/** The fields this version reads from a stored message. */
const storedMessage = z.object({
  _id: z.string(),
  room: z.string(),
  pos: z.number().int().min(1),
  sender: z.string(),
  text: z.string(),
  ts: z.number(),
  clientMsgId: z.string(),
});
const storedMembership = z.object({
  room: z.string(),
  user: z.string(),
  state: z.enum(['member', 'invited', 'banned', 'none']).optional(),
  role: z.enum(['admin', 'member']).optional(),
});

/** A sample of stored messages and memberships must read with this version's shapes. */
export async function checkStoredData(db: Db, sample = 200): Promise<CheckResult> {
  const name = 'mongodb.data';
  const problems: string[] = [];
  const samples = [
    [collectionNames.messages, storedMessage],
    [collectionNames.memberships, storedMembership],
  ] as const;
  let read = 0;
  for (const [collection, schema] of samples) {
    const docs = await db.collection(collection).find({}, { limit: sample, maxTimeMS: 10_000 }).toArray();
    read += docs.length;
    for (const doc of docs) {
      const parsed = schema.safeParse(doc);
      if (!parsed.success) {
        problems.push(`${collection} ${String(doc._id)}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join(', ')}`);
        break;
      }
    }
  }
  return problems.length ? { name, ok: false, detail: problems.join('; ') } : { name, ok: true, detail: `${read} stored documents read with this version's shapes` };
}
