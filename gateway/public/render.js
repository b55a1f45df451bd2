// Draws the page from `state`: connection pill and banner, room list, the open room's messages,
// who is online, the composer, toasts, and the login/chat views. Reads state, never changes it,
// except the per-room cache of message nodes.
import { state } from './client-state.js';
import { $, el } from './dom.js';

const TOAST_MS = 10_000;

/** What clicks inside rendered content do; bound once by app.js. */
let actions = {
  selectRoom: (_name) => {},
  retry: (_room, _pending) => {},
  discard: (_room, _pending) => {},
};

export function bindActions(bound) {
  actions = bound;
}

export function render() {
  renderConn();
  renderRooms();
  renderRoom();
}

export function renderConn() {
  const pill = $('conn-state');
  const labels = { offline: 'offline', connecting: 'connecting…', online: 'online', reconnecting: 'reconnecting…' };
  pill.dataset.state = state.conn;
  document.getElementById('chat-view').dataset.conn = state.conn; // dims stale presence while down
  pill.textContent = labels[state.conn];
  pill.title = state.gateway ? `gateway ${state.gateway}` : '';
  const banner = $('banner');
  const down = state.session && state.conn === 'reconnecting';
  banner.hidden = !down;
  if (down) {
    const secs = Math.max(0, Math.ceil((state.reconnectAt - Date.now()) / 1000));
    banner.textContent = `Connection lost — reconnecting${secs > 0 ? ` in ${secs}s` : '…'}. Messages you send now are delivered when it is back.`;
  }
  renderComposer();
}

/** The room list's nodes by name, each with the key it was drawn from: only changed items are redrawn. */
const roomItems = new Map();

export function renderRooms() {
  const names = [...new Set([...state.listed.keys(), ...state.rooms.keys(), ...state.invites])].sort((a, b) => a.localeCompare(b));
  const list = $('room-list');
  for (const name of roomItems.keys()) if (!names.includes(name)) roomItems.delete(name);
  const items = names.map((name) => roomItem(name));
  if (items.length === 0) return list.replaceChildren(el('li', { class: 'hint', text: 'No rooms yet.' }));
  if (list.querySelector('.hint')) list.replaceChildren();
  reconcile(list, items);
}

/** Redraws one room's entry (its unread badge after a push) without touching the others. */
export function renderRoomItem(name) {
  const current = roomItems.get(name);
  if (!current) return renderRooms();
  const next = roomItem(name);
  if (next !== current.node) current.node.replaceWith(next);
}

function roomItem(name) {
  const room = state.rooms.get(name);
  const active = name === state.active;
  const invited = !room && state.invites.has(name);
  const locked = state.privateRooms.has(name) || invited;
  const key = `${active}|${Boolean(room)}|${room?.unread ?? 0}|${locked}|${invited}`;
  const cached = roomItems.get(name);
  if (cached?.key === key) return cached.node;
  const node = el(
    'li',
    {},
    el(
      'button',
      {
        type: 'button',
        class: `room-item${active ? ' active' : ''}${room ? ' joined' : ''}${invited ? ' invited' : ''}`,
        'data-testid': 'room-item',
        'data-room': name,
        'data-private': locked ? 'true' : undefined,
        'aria-current': active ? 'true' : undefined,
        title: invited ? 'You are invited: click to join' : undefined,
        onclick: () => actions.selectRoom(name),
      },
      el('span', { class: 'hash', 'aria-hidden': 'true', text: '#' }),
      el('span', { class: 'name', text: name }),
      locked ? el('span', { class: 'lock', 'aria-label': 'private', text: '🔒' }) : null,
      invited ? el('span', { class: 'badge', text: 'invited' }) : null,
      room?.unread ? el('span', { class: 'badge', text: String(room.unread), 'aria-label': `${room.unread} unread` }) : null,
    ),
  );
  roomItems.set(name, { key, node });
  return node;
}

function renderRoom() {
  const room = state.rooms.get(state.active);
  $('room-title').textContent = room ? `# ${room.name}` : 'No room selected';
  $('room-leave').hidden = !room;
  $('room-admin').hidden = !room;
  $('room-topic').textContent = room?.topic ?? '';
  renderMessages();
  renderOnline();
  renderComposer();
}

function renderComposer() {
  const enabled = Boolean(state.rooms.get(state.active));
  $('composer').disabled = !enabled;
  $('composer').placeholder = enabled ? `Message #${state.active}` : 'Write a message…';
  $('send').disabled = !enabled;
}

export function renderOnline() {
  const room = state.rooms.get(state.active);
  const users = room?.online ?? [];
  $('online').replaceChildren(
    ...users.map((user) =>
      el('li', { 'data-testid': 'online-user', class: user === state.session?.user ? 'me' : undefined },
        el('span', { class: 'dot', 'aria-hidden': 'true' }), el('span', { text: user })),
    ),
  );
}

export function renderMessages({ toBottom = false, keepAnchor = false } = {}) {
  const box = $('messages');
  const list = box.querySelector('.message-list');
  const room = state.rooms.get(state.active);
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const heightBefore = box.scrollHeight;

  const older = $('load-older');
  older.hidden = !room?.hasMore;
  older.disabled = Boolean(room?.loadingOlder);
  older.textContent = room?.loadingOlder ? 'Loading…' : 'Load older messages';
  $('empty').hidden = Boolean(room && (room.messages.size > 0 || room.pending.size > 0));
  $('empty').textContent = room ? (room.historyLoaded ? 'No messages yet — say hello.' : 'Loading…') : 'Create or join a room to start chatting.';
  if (!room) return list.replaceChildren();
  if (list.dataset.room !== room.name) list.replaceChildren(); // another room's nodes
  list.dataset.room = room.name;

  const used = new Map();
  const nodes = [];
  const take = (key, build) => {
    const node = room.nodes.get(key) ?? build();
    used.set(key, node);
    nodes.push(node);
  };
  for (const pos of room.order) {
    const m = room.messages.get(pos);
    take(`s${pos}`, () => messageNode(m, 'confirmed')); // our ack's copy and the push look the same
  }
  for (const p of room.pending.values()) {
    const queued = p.status === 'pending' && state.conn !== 'online';
    take(`p${p.clientMsgId}${p.status}${queued}`, () => messageNode({ sender: state.session.user, text: p.text, ts: Date.now() }, queued ? 'queued' : p.status, p, room));
  }
  room.nodes = used;
  reconcile(list, nodes);

  if (keepAnchor) box.scrollTop += box.scrollHeight - heightBefore;
  else if (toBottom || nearBottom) box.scrollTop = box.scrollHeight;
}

/**
 * A pushed message of the open room: in the usual case (newest, nothing else changed) one node is
 * added and the trimmed ones removed, without walking the room's other messages.
 */
export function renderPushed(room, pos, dropped) {
  const list = $('messages').querySelector('.message-list');
  if (state.active !== room.name || list.dataset.room !== room.name || room.order[room.order.length - 1] !== pos || room.nodes.has(`s${pos}`)) {
    return renderMessages();
  }
  const box = $('messages');
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  for (const old of dropped) {
    room.nodes.get(`s${old}`)?.remove();
    room.nodes.delete(`s${old}`);
  }
  const node = messageNode(room.messages.get(pos), 'confirmed');
  room.nodes.set(`s${pos}`, node);
  // Pending lines stay last: the new message goes before the first of them.
  const firstPending = room.pending.size > 0 ? list.querySelector(':scope > li:not([data-status="confirmed"])') : null;
  list.insertBefore(node, firstPending);
  $('empty').hidden = true;
  $('load-older').hidden = !room.hasMore;
  if (nearBottom) box.scrollTop = box.scrollHeight;
}

/** Moves only what changed: re-inserting a node would replay its entry animation and lose selection. */
function reconcile(list, nodes) {
  const keep = new Set(nodes);
  for (const child of [...list.children]) if (!keep.has(child)) child.remove();
  nodes.forEach((node, i) => {
    if (list.children[i] !== node) list.insertBefore(node, list.children[i] ?? null);
  });
}

function messageNode(m, status, pending, room) {
  const mine = m.sender === state.session?.user;
  const statusText = { confirmed: mine ? '✓' : '', pending: 'sending…', queued: 'queued', failed: 'not sent' }[status];
  return el(
    'li',
    { class: `msg ${mine ? 'mine' : ''} ${status}`, 'data-testid': 'message', 'data-status': status, 'data-pos': m.pos, 'data-sender': m.sender },
    el('div', { class: 'meta' },
      el('span', { class: 'sender', 'data-testid': 'message-sender', text: m.sender }),
      el('time', { datetime: new Date(m.ts).toISOString(), text: formatTime(m.ts) }),
      statusText ? el('span', { class: 'status', 'data-testid': 'message-status', title: status, text: statusText }) : null),
    el('div', { class: 'text', 'data-testid': 'message-text', text: m.text }),
    status === 'failed'
      ? el('div', { class: 'inline-error', role: 'alert', 'data-testid': 'message-error' },
          el('span', { text: pending.error ?? 'not sent' }),
          el('button', { type: 'button', class: 'link', text: 'Retry', onclick: () => actions.retry(room, pending) }),
          el('button', { type: 'button', class: 'link', text: 'Discard', onclick: () => actions.discard(room, pending) }))
      : null,
  );
}

function formatTime(ts) {
  const d = new Date(ts);
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function toast(code, message) {
  const node = el('div', { class: 'toast', role: 'alert', 'data-testid': 'error', 'data-code': code },
    el('strong', { text: code }),
    el('span', { text: message }),
    el('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss', text: '×', onclick: () => node.remove() }));
  document.querySelector('.toasts').append(node);
  setTimeout(() => node.remove(), TOAST_MS);
}

/** The login view says which identity mode the gateway runs in. */
export function renderAuthMode() {
  $('dev-mode-note').hidden = state.authMode !== 'dev';
  $('idp-note').hidden = state.authMode !== 'jwt';
  $('login-form').querySelector('fieldset').disabled = state.authMode === 'jwt';
}

export function showLoginError(text) {
  const p = $('login-error');
  p.textContent = text;
  p.hidden = false;
}

export function showLogin() {
  document.getElementById('chat-view').hidden = true;
  document.getElementById('login-view').hidden = false;
  $('me').hidden = true;
  $('logout').hidden = true;
  render();
  $('login-name').focus();
}

export function showChat() {
  document.getElementById('login-view').hidden = true;
  document.getElementById('chat-view').hidden = false;
  $('login-error').hidden = true;
  $('me').textContent = state.session.user;
  $('me').hidden = false;
  $('logout').hidden = false;
  render();
  $('room-input').focus();
}
