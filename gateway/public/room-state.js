// One joined room as this tab knows it: its messages by position, the resume point (lastPos), and
// the messages we sent that the server has not confirmed yet. Pure data; no socket, no DOM.

/** Room names the server accepts; checked before asking, and on names restored from storage. */
export const ROOM_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Messages asked for per history page. */
export const HISTORY_PAGE = 50;
/** Messages a room keeps while the reader is at the bottom; older ones are dropped (and can be loaded again). */
export const WINDOW = 500;
/** Messages a room keeps at most, even while the reader pages back through older ones. */
export const MAX_HELD = 2_000;

/** A room at its first `joined`: history covers <= head, pushes cover > head: no gap, no overlap. */
export function newRoom(name, head) {
  return {
    name,
    head: 0,
    /** Position of the last message received in order (each message's prev matched it): the resume point. */
    lastPos: head,
    /** First page of history is everything before this position (fixed at the first join). */
    historyBefore: head + 1,
    historyLoaded: false,
    hasMore: false,
    loadingOlder: false,
    /** pos -> message; `local` marks one built from our own ack before its push arrived. */
    messages: new Map(),
    /** The positions of `messages`, ascending: kept sorted on insert so rendering never sorts. */
    order: [],
    /** Nothing at or before this position is readable for us (a since_join room). */
    readFrom: 0,
    /** clientMsgId -> { clientMsgId, text, status: 'pending' | 'failed', error? } */
    pending: new Map(),
    online: [],
    unread: 0,
    nodes: new Map(), // render cache: key -> <li>
  };
}

/**
 * Takes in a pushed message. Returns 'duplicate' for one we hold (resume overlap), 'gap' when its
 * `prev` is not our position (we missed something: the caller joins again after lastPos, and the
 * message is not taken), otherwise whether it is new to us.
 * @returns {'duplicate' | 'gap' | { fresh: boolean }}
 */
export function receiveMessage(room, m) {
  if (m.pos <= room.lastPos) {
    const known = room.messages.get(m.pos);
    if (known?.local) room.messages.set(m.pos, toMessage(m));
    return 'duplicate';
  }
  if (m.prev !== room.lastPos) return 'gap';
  room.lastPos = m.pos;
  if (m.pos > room.head) room.head = m.pos;
  const known = room.messages.get(m.pos);
  put(room, toMessage(m));
  return { fresh: !known };
}

/** History replaces only what we lack or built ourselves from an ack. */
export function mergeHistory(room, messages) {
  for (const m of messages) if (!room.messages.get(m.pos) || room.messages.get(m.pos).local) put(room, toMessage(m));
}

export function addPending(room, clientMsgId, text) {
  /** `sent`: transmitted at least once, so any later transmission is a resend. */
  const p = { clientMsgId, text, status: 'pending', sent: false };
  room.pending.set(clientMsgId, p);
  return p;
}

/** Our send got its position: the pending line becomes a message until the push itself arrives. */
export function confirmPending(room, ack, sender) {
  const p = room.pending.get(ack.clientMsgId);
  room.pending.delete(ack.clientMsgId);
  if (p && !room.messages.has(ack.pos)) {
    put(room, { pos: ack.pos, id: ack.id, sender, text: p.text, ts: Date.now(), local: true });
  }
}

export function oldestPos(room) {
  return room.order[0];
}

/**
 * Drops the oldest messages beyond `keep`; they can be read again with "load older". Returns the
 * dropped positions, for the renderer to remove their nodes.
 */
export function trimOldest(room, keep) {
  if (room.order.length <= keep) return [];
  const dropped = room.order.splice(0, room.order.length - keep);
  for (const pos of dropped) room.messages.delete(pos);
  room.hasMore = true;
  return dropped;
}

/** Stores a message, keeping `order` sorted: an append in the usual case, a binary-search insert otherwise. */
function put(room, message) {
  const known = room.messages.has(message.pos);
  room.messages.set(message.pos, message);
  if (known) return;
  const order = room.order;
  if (order.length === 0 || order[order.length - 1] < message.pos) return void order.push(message.pos);
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (order[mid] < message.pos) lo = mid + 1;
    else hi = mid;
  }
  order.splice(lo, 0, message.pos);
}

function toMessage(m) {
  return { pos: m.pos, id: m.id, sender: m.sender, text: m.text, ts: m.ts };
}
