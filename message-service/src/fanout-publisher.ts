import type { NatsConnection } from '@nats-io/transport-node';
import { subjects } from '@chorus/shared/bus/names';
import type { QueuedMessage } from '@chorus/shared/bus/payloads';

export interface FanoutEntry {
  message: QueuedMessage;
  /** W3C traceparent of the message's fan-out span (absent with tracing off). */
  traceparent?: string | undefined;
}

/** Room payloads stay below this share of the server's max_payload (headers and framing). */
const payloadHeadroom = 0.9;
const defaultMaxPayload = 1024 * 1024;

/**
 * Publishes a stored batch to the gateways: per room one core NATS message on chorus.out.<room>
 * (a `fanoutBatch`), messages sorted by seq. A room's part is split into several payloads only
 * if it would exceed the server's max_payload. Core NATS (not JetStream) because a gateway that
 * misses a fan-out recovers from history by seq; durability is the database's job.
 */
export class FanoutPublisher {
  constructor(private readonly nc: NatsConnection) {}

  /** Returns the number of NATS messages published. */
  publish(entries: readonly FanoutEntry[]): number {
    const byRoom = new Map<string, FanoutEntry[]>();
    const seen = new Set<string>();
    for (const entry of entries) {
      // The same message can sit twice in one batch (a redelivery next to its original).
      if (seen.has(entry.message.id)) continue;
      seen.add(entry.message.id);
      const list = byRoom.get(entry.message.room);
      if (list) list.push(entry);
      else byRoom.set(entry.message.room, [entry]);
    }
    const maxBytes = Math.floor((this.nc.info?.max_payload ?? defaultMaxPayload) * payloadHeadroom);
    let published = 0;
    for (const [room, list] of byRoom) {
      list.sort((a, b) => a.message.seq - b.message.seq);
      for (const payload of roomPayloads(room, list, maxBytes)) {
        this.nc.publish(subjects.fanout(room), payload);
        published++;
      }
    }
    return published;
  }
}

/** JSON of `fanoutBatch` payloads for one room, built from pre-serialized parts to split by size. */
export function roomPayloads(room: string, entries: readonly FanoutEntry[], maxBytes: number): string[] {
  const head = `{"room":${JSON.stringify(room)},"messages":[`;
  const tail = ']}';
  const payloads: string[] = [];
  let parts: string[] = [];
  let size = head.length + tail.length;
  for (const { message, traceparent } of entries) {
    const part = JSON.stringify({
      id: message.id,
      room: message.room,
      seq: message.seq,
      sender: message.sender,
      text: message.text,
      ts: message.ts,
      ...(traceparent && { traceparent }),
    });
    const bytes = Buffer.byteLength(part) + 1;
    if (parts.length > 0 && size + bytes > maxBytes) {
      payloads.push(head + parts.join(',') + tail);
      parts = [];
      size = head.length + tail.length;
    }
    parts.push(part);
    size += bytes;
  }
  if (parts.length > 0) payloads.push(head + parts.join(',') + tail);
  return payloads;
}
