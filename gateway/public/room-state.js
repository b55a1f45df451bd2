// One joined room as this tab knows it: its messages by seq, the resume point (lastSeq), and the
// messages we sent that the server has not confirmed yet. Pure data; no socket, no DOM.

/** Room names the server accepts; checked before asking, and on names restored from storage. */
export const ROOM_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Messages asked for per history page. */
export const HISTORY_PAGE = 50;

/** A room at its first `joined`: history covers <= head, pushes cover > head: no gap, no overlap. */
export function newRoom(name, head) {
  return {
    name,
    head: 0,
    /** Highest seq received in order from the server; the resume point for re-joins. */
    lastSeq: head,
    /** First page of history is everything before this seq (fixed at the first join). */
    historyBefore: head + 1,
    historyLoaded: false,
    hasMore: false,
    loadingOlder: false,
    /** seq -> message; `local` marks one built from our own ack before its push arrived. */
    messages: new Map(),
    /** clientMsgId -> { clientMsgId, text, status: 'pending' | 'failed', error? } */
    pending: new Map(),
    online: [],
    unread: 0,
    nodes: new Map(), // render cache: key -> <li>
  };
}

/**
 * Takes in a pushed message. Returns null for a duplicate (resume overlap, redelivery); otherwise
 * whether it is new to us and, when seqs were skipped, the last seq before the gap.
 * @returns {{ fresh: boolean, gapAfter: number | null } | null}
 */
export function receiveMessage(room, m) {
  const gapFrom = room.lastSeq;
  if (m.seq > room.lastSeq) room.lastSeq = m.seq;
  if (m.seq > room.head) room.head = m.seq;
  const known = room.messages.get(m.seq);
  if (known && !known.local) return null;
  room.messages.set(m.seq, toMessage(m));
  // The feed is gapless per socket except around a join's head; the caller fetches what fell in between.
  return { fresh: !known, gapAfter: m.seq > gapFrom + 1 ? gapFrom : null };
}

/** History replaces only what we lack or built ourselves from an ack. */
export function mergeHistory(room, messages) {
  for (const m of messages) if (!room.messages.get(m.seq) || room.messages.get(m.seq).local) room.messages.set(m.seq, toMessage(m));
}

export function addPending(room, clientMsgId, text) {
  const p = { clientMsgId, text, status: 'pending' };
  room.pending.set(clientMsgId, p);
  return p;
}

/** Our send got its seq: the pending line becomes a message until the push itself arrives. */
export function confirmPending(room, ack, sender) {
  const p = room.pending.get(ack.clientMsgId);
  room.pending.delete(ack.clientMsgId);
  if (p && !room.messages.has(ack.seq)) {
    room.messages.set(ack.seq, { seq: ack.seq, id: ack.id, sender, text: p.text, ts: Date.now(), local: true });
  }
}

export function oldestSeq(room) {
  return Math.min(...room.messages.keys());
}

function toMessage(m) {
  return { seq: m.seq, id: m.id, sender: m.sender, text: m.text, ts: m.ts };
}
