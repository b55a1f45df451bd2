import type { Collection } from 'mongodb';
import { chainFrom, type HistoryRequest, type HistoryResult, type PositionedMessage } from '@chorus/shared/bus/payloads';
import type { RoomStream } from '@chorus/shared/bus/room-stream';
import type { MessageDoc } from '../storage/collections.js';
import type { WriterProgress } from '../pipeline/writer-progress.js';
import type { MemberStore } from '../rooms/member-store.js';
import type { QueryGate } from './query-gate.js';
import { RpcError } from './rpc-error.js';

/** Stream pages read for the unwritten tail of a backward read before giving up (writer far behind). */
const maxTailPages = 20;
const tailPage = 500;

/**
 * Answers `chorus.rpc.history`: one page of a room's messages, ascending by position, with
 * `prev` chained. MongoDB holds everything up to the writer's floor; the stream holds the rest
 * (and everything from its first sequence on), so a page is stitched from both with no gap and no
 * repeat at the seam. Replies are paged by bytes as well as by count (NATS max_payload).
 * A request naming its `user` is refused unless the user is a member now (a removed member reads
 * nothing), and gets nothing at or before the member's `readFrom` (a `since_join` room).
 */
export class HistoryHandler {
  constructor(
    private readonly messages: Collection<MessageDoc>,
    private readonly stream: RoomStream,
    private readonly writer: WriterProgress,
    private readonly gate: QueryGate,
    private readonly maxReplyBytes: () => number,
    private readonly members: Pick<MemberStore, 'readFrom'>,
  ) {}

  async handle(request: HistoryRequest, deadline?: number): Promise<HistoryResult> {
    if (request.user === undefined) return this.page(request, deadline);
    const readFrom = await this.members.readFrom(request.room, request.user);
    if (request.before !== undefined && request.before <= readFrom + 1) return { messages: [], hasMore: false };
    const after = request.after !== undefined ? Math.max(request.after, readFrom) : undefined;
    const { user: _, ...shared } = request; // one query for every reader of the same page
    const page = await this.page({ ...shared, ...(after !== undefined && { after }) }, deadline);
    return hideBefore(page, readFrom);
  }

  private page(request: HistoryRequest, deadline?: number): Promise<HistoryResult> {
    const key = `history/${request.room}/${request.after ?? ''}/${request.before ?? ''}/${request.limit}`;
    return this.gate.run(key, () => this.query(request), deadline);
  }

  private async query(request: HistoryRequest): Promise<HistoryResult> {
    const forward = request.after !== undefined;
    const result = request.after !== undefined ? await this.forward(request.room, request.after, request.limit) : await this.backward(request.room, request.before, request.limit);
    return fitBytes(result, forward, this.maxReplyBytes());
  }

  /** The oldest `limit` messages with pos > after. */
  private async forward(room: string, after: number, limit: number): Promise<HistoryResult> {
    const first = await this.stream.firstSeq();
    if (after + 1 >= first) {
      const { run, reachedEnd } = await this.stream.readAfter(room, after, limit + 1);
      return { messages: chainFrom(after, run.slice(0, limit)), hasMore: run.length > limit || !reachedEnd };
    }
    const { floor } = await this.writer.lag();
    const stored = await this.fromMongo({ room, pos: { $gt: after, $lte: floor } }, 1, limit + 1);
    if (stored.length > limit) return { messages: chainFrom(after, stored.slice(0, limit)), hasMore: true };
    if (floor + 1 < first) {
      // Messages between the writer's floor and the stream's start exist nowhere: the trimmer
      // never removes past the floor, so someone purged the stream by hand.
      throw new RpcError('internal', `room ${room}: positions ${floor + 1}..${first - 1} left the stream before they were stored`);
    }
    const { run, reachedEnd } = await this.stream.readAfter(room, Math.max(after, floor), limit + 1 - stored.length);
    const all = [...stored, ...run];
    return { messages: chainFrom(after, all.slice(0, limit)), hasMore: all.length > limit || !reachedEnd };
  }

  /** The newest `limit` messages with pos < before (or the newest of all). */
  private async backward(room: string, before: number | undefined, limit: number): Promise<HistoryResult> {
    const upper = before ?? Number.MAX_SAFE_INTEGER;
    const [first, { floor }] = await Promise.all([this.stream.firstSeq(), this.writer.lag()]);
    // The unwritten tail (pos > floor) is only sure to be in the stream: read it forward,
    // keeping the newest limit + 1 below `upper`.
    const start = Math.max(floor, first - 1);
    let tail: PositionedMessage[] = [];
    let cursor = start;
    for (let page = 0; cursor + 1 < upper; page++) {
      if (page === maxTailPages) throw new RpcError('unavailable', 'the writer is far behind; history is slow to read now, try again');
      const read = await this.stream.readAfter(room, cursor, tailPage);
      tail.push(...read.run.filter((m) => m.pos < upper));
      if (tail.length > limit + 1) tail = tail.slice(-(limit + 1));
      cursor = read.cursor;
      if (read.reachedEnd || read.run.length === 0) break;
    }
    const need = limit + 1 - tail.length;
    const older = need > 0 ? (await this.fromMongo({ room, pos: { $lt: Math.min(upper, start + 1) } }, -1, need)).reverse() : [];
    const all = [...older, ...tail];
    const hasMore = all.length > limit;
    const page = hasMore ? all.slice(-limit) : all;
    // With one more row than asked, the row before the page is its first message's predecessor.
    const prev = hasMore ? all[all.length - limit - 1]!.pos : 0;
    return { messages: chainFrom(prev, page), hasMore };
  }

  private async fromMongo(filter: { room: string; pos: { $gt?: number; $lte?: number; $lt?: number } }, direction: 1 | -1, limit: number): Promise<PositionedMessage[]> {
    const rows = await this.messages
      .find(filter, { projection: { _id: 1, id: 1, room: 1, pos: 1, sender: 1, text: 1, ts: 1, clientMsgId: 1 } })
      .sort({ pos: direction })
      .limit(limit)
      .toArray();
    return rows.map((d) => ({ pos: d.pos, message: { id: d.id ?? d._id, room: d.room, sender: d.sender, text: d.text, ts: d.ts, clientMsgId: d.clientMsgId } }));
  }
}

/**
 * Drops the messages at or before `readFrom` from a page. The first kept message's `prev` is
 * raised to `readFrom` (still true: nothing visible lies between). A forward page starts after
 * `readFrom` already; a backward page that reached it has nothing older to show.
 */
export function hideBefore(page: HistoryResult, readFrom: number): HistoryResult {
  if (readFrom === 0) return page;
  const kept = page.messages.filter((m) => m.pos > readFrom);
  if (kept.length === page.messages.length && (kept[0]?.prev ?? readFrom) >= readFrom) return page;
  if (kept[0] && kept[0].prev < readFrom) kept[0] = { ...kept[0], prev: readFrom };
  return { messages: kept, hasMore: false }; // only a backward page gets here: what is older is hidden
}

/**
 * Cuts a page to fit a NATS reply. A forward page keeps its oldest messages, a backward page its
 * newest; either way `hasMore` then says more exist in the direction asked.
 */
export function fitBytes(result: HistoryResult, forward: boolean, maxBytes: number): HistoryResult {
  const sizes = result.messages.map((m) => Buffer.byteLength(JSON.stringify(m)) + 1);
  let size = 64 + sizes.reduce((a, b) => a + b, 0);
  if (size <= maxBytes) return result;
  const kept = [...result.messages];
  while (kept.length > 1 && size > maxBytes) {
    size -= forward ? sizes.pop()! : sizes.shift()!;
    if (forward) kept.pop();
    else kept.shift();
  }
  if (!forward) {
    // The first kept message's predecessor is the last one cut.
    const cut = result.messages[result.messages.length - kept.length - 1]!;
    kept[0] = { ...kept[0]!, prev: cut.pos };
  }
  return { messages: kept, hasMore: true };
}
