import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { RecentValue } from '../concurrency/recent-value.js';
import { roomFromSubject, streamName, subjects } from './names.js';
import { storedMessage, type PositionedMessage } from './payloads.js';

/** One read of a room's run from the stream. */
export interface StreamRun {
  /** Valid messages with pos > after, ascending, consecutive in the room. */
  run: PositionedMessage[];
  /**
   * The highest position of the room this read accounted for (a payload that fails validation is
   * skipped but still counted), `after` when nothing was found.
   */
  cursor: number;
  /** True when the read stopped at the end of the stream rather than at `limit` or a byte cap. */
  reachedEnd: boolean;
}

/** Bytes one direct-get batch may return; well below NATS's max_payload per message. */
const batchMaxBytes = 1024 * 1024;
/** Subjects per multi-last request. */
const headsChunk = 256;

/**
 * Reads rooms straight from the message stream with JetStream direct gets (no consumer is made):
 * a room's head, a run of it after a position, and the stream's first sequence, below which only
 * MongoDB has messages. Used by gateways (catch-up, gap fill) and message-services (history tail).
 */
export class RoomStream {
  private jsm: Promise<JetStreamManager> | undefined;
  private readonly first: RecentValue<number>;

  constructor(
    private readonly nc: NatsConnection,
    stateMaxAgeMs = 1_000,
    private readonly timeoutMs = 5_000,
  ) {
    // An empty stream reports first_seq = last_seq + 1: everything before it is gone.
    this.first = new RecentValue(stateMaxAgeMs, async () => (await (await this.manager()).streams.info(streamName)).state.first_seq);
  }

  /** Position of the room's newest message in the stream, 0 when the stream has none of it. */
  async head(room: string): Promise<number> {
    const jsm = await this.manager();
    const last = await jsm.direct.getMessage(streamName, { last_by_subj: subjects.inbound(room) });
    return last?.seq ?? 0;
  }

  /** Heads of many rooms in a few requests; rooms the stream has nothing of are absent. */
  async heads(rooms: readonly string[]): Promise<Map<string, number>> {
    const jsm = await this.manager();
    const heads = new Map<string, number>();
    for (let i = 0; i < rooms.length; i += headsChunk) {
      const chunk = rooms.slice(i, i + headsChunk).map((room) => subjects.inbound(room));
      const found = await jsm.direct.getLastMessagesFor(streamName, { multi_last: chunk });
      await collect(found, (m) => void heads.set(roomFromSubject(m.subject), m.seq));
    }
    return heads;
  }

  /** At most `limit` of the room's messages with pos > after, as the stream holds them. */
  async readAfter(room: string, after: number, limit: number): Promise<StreamRun> {
    const jsm = await this.manager();
    const result: StreamRun = { run: [], cursor: after, reachedEnd: true };
    const batch = await jsm.direct.getBatch(streamName, {
      seq: after + 1,
      next_by_subj: subjects.inbound(room),
      batch: limit,
      max_bytes: batchMaxBytes,
    });
    let count = 0;
    let lastPending = 0;
    await collect(batch, (m) => {
      count++;
      lastPending = m.pending;
      result.cursor = m.seq;
      const message = parseStored(m);
      if (message && message.room === room) result.run.push({ pos: m.seq, message });
    });
    result.reachedEnd = count === 0 || lastPending === 0;
    return result;
  }

  /** The stream's first sequence (cached for a second): below it, messages are only in MongoDB. */
  firstSeq(): Promise<number> {
    return this.first.get();
  }

  private manager(): Promise<JetStreamManager> {
    this.jsm ??= jetstreamManager(this.nc, { timeout: this.timeoutMs }).catch((error: unknown) => {
      this.jsm = undefined;
      throw error;
    });
    return this.jsm;
  }
}

function parseStored(m: StoredMsg): PositionedMessage['message'] | undefined {
  try {
    const parsed = storedMessage.safeParse(m.json());
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Drains a direct-get iterator; "no message" (404) is an empty answer, not an error. */
async function collect(iterator: AsyncIterable<StoredMsg>, each: (m: StoredMsg) => void): Promise<void> {
  try {
    for await (const m of iterator) each(m);
  } catch (error) {
    if ((error as { code?: number }).code === 404) return;
    throw error;
  }
}
