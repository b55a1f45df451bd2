// Chorus browser client: one WebSocket per tab, all state in memory, the DOM rendered from state.
// Sections: config, state, connection, frame handling, actions, rendering, wiring.
// User data only ever reaches the DOM through textContent / attributes, never innerHTML.

// ---------------------------------------------------------------- config
const HISTORY_PAGE = 50;
const PING_EVERY_MS = 20_000;
const PONG_TIMEOUT_MS = 10_000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;
const TOAST_MS = 10_000;
const SESSION_KEY = 'chorus.session';
const ROOMS_KEY = 'chorus.rooms';
const ROOM_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** The gateway refuses a bad token at the HTTP upgrade (401), which a browser only sees as a failed
 *  socket; when the gateway is up (/healthz) yet refuses us this many times in a row, log in again. */
const REFUSALS_BEFORE_RELOGIN = 2;

// ---------------------------------------------------------------- state
const state = {
  /** @type {{token: string, user: string} | null} */
  session: loadSession(),
  conn: 'offline', // offline | connecting | online | reconnecting
  gateway: '',
  reconnectAt: 0,
  /** Rooms the server listed (`rooms` reply): name -> head. */
  listed: new Map(),
  /** Rooms this client has joined: name -> RoomState. */
  rooms: new Map(),
  /** @type {string | null} */
  active: null,
};

function newRoom(name) {
  return {
    name,
    head: 0,
    /** Highest seq received in order from the server; the resume point for re-joins. */
    lastSeq: 0,
    /** First page of history is everything before this seq (fixed at the first join). */
    historyBefore: 0,
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

function saveRooms() {
  sessionStorage.setItem(ROOMS_KEY, JSON.stringify({ joined: [...state.rooms.keys()], active: state.active }));
}

function savedRooms() {
  try {
    const value = JSON.parse(sessionStorage.getItem(ROOMS_KEY) ?? 'null');
    const joined = Array.isArray(value?.joined) ? value.joined.filter((r) => typeof r === 'string' && ROOM_PATTERN.test(r)) : [];
    return { joined, active: typeof value?.active === 'string' ? value.active : null };
  } catch {
    return { joined: [], active: null };
  }
}

function loadSession() {
  try {
    const value = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    return value && typeof value.token === 'string' && typeof value.user === 'string' ? value : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- connection
let socket = null;
let nextRid = 1;
/** rid -> what was asked, so replies and errors can be routed. */
const requests = new Map();
let attempt = 0;
let reconnectTimer = 0;
let pingTimer = 0;
let pongTimer = 0;
let refusals = 0;

function connect() {
  clearTimeout(reconnectTimer);
  if (!state.session) return;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}/ws?token=${encodeURIComponent(state.session.token)}`);
  socket = ws;
  setConn(attempt === 0 ? 'connecting' : 'reconnecting');
  let opened = false;
  ws.addEventListener('open', () => {
    opened = true;
    refusals = 0;
  });
  ws.addEventListener('message', (event) => {
    if (ws !== socket) return;
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return toast('bad_frame', 'The server sent something that is not JSON.');
    }
    handleFrame(frame);
  });
  ws.addEventListener('close', async () => {
    if (ws !== socket) return;
    socket = null;
    stopPing();
    requests.clear();
    early.clear();
    if (!state.session) return setConn('offline');
    const session = state.session;
    if (!opened && (await gatewayIsUp()) && ++refusals >= REFUSALS_BEFORE_RELOGIN) {
      if (state.session !== session) return;
      logout();
      return showLoginError('session_rejected: the gateway no longer accepts this session; log in again');
    }
    if (state.session === session && !socket) scheduleReconnect();
  });
}

async function gatewayIsUp() {
  try {
    return (await fetch('/healthz', { cache: 'no-store' })).ok;
  } catch {
    return false;
  }
}

function scheduleReconnect() {
  attempt += 1;
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (attempt - 1));
  const delay = Math.round(base * (0.5 + Math.random() / 2)); // jitter spreads a herd of clients
  state.reconnectAt = Date.now() + delay;
  setConn('reconnecting');
  reconnectTimer = setTimeout(connect, delay);
}

function disconnect() {
  clearTimeout(reconnectTimer);
  stopPing();
  const ws = socket;
  socket = null;
  requests.clear();
  early.clear();
  ws?.close(1000, 'logout');
  attempt = 0;
  setConn('offline');
}

/** Sends a request; returns false when there is no open socket (the caller decides what that means). */
function request(frame, meta = {}) {
  if (!socket || socket.readyState !== WebSocket.OPEN || state.conn !== 'online') return false;
  const rid = nextRid++;
  requests.set(rid, { type: frame.type, ...meta });
  socket.send(JSON.stringify({ ...frame, rid }));
  return true;
}

function startPing() {
  stopPing();
  pingTimer = setInterval(() => {
    if (!request({ type: 'ping' })) return;
    // A socket can look open while the path is dead; no pong means start over.
    pongTimer = setTimeout(() => socket?.close(4000, 'pong timeout'), PONG_TIMEOUT_MS);
  }, PING_EVERY_MS);
}

function stopPing() {
  clearInterval(pingTimer);
  clearTimeout(pongTimer);
}

// ---------------------------------------------------------------- frame handling
const handlers = {
  welcome(f) {
    attempt = 0;
    state.gateway = f.gateway;
    setConn('online');
    startPing();
    request({ type: 'rooms' });
    for (const room of state.rooms.values()) {
      request({ type: 'join', room: room.name, afterSeq: room.lastSeq }, { room: room.name, rejoin: true });
    }
    // After a page reload: join again what this tab had open (history reloads from the server).
    const saved = state.rooms.size === 0 ? savedRooms() : { joined: [], active: null };
    for (const name of saved.joined) request({ type: 'join', room: name }, { room: name, select: name === saved.active, restore: true });
  },

  joined(f, req) {
    const first = !state.rooms.has(f.room);
    const room = first ? newRoom(f.room) : state.rooms.get(f.room);
    if (first) {
      state.rooms.set(f.room, room);
      room.lastSeq = f.head; // history covers <= head, pushes cover > head: no gap, no overlap
      room.historyBefore = f.head + 1;
      for (const m of early.get(f.room) ?? []) handlers.message(m);
      early.delete(f.room);
    }
    room.head = Math.max(room.head, f.head);
    state.listed.set(f.room, Math.max(state.listed.get(f.room) ?? 0, f.head));
    if (!room.historyLoaded) {
      if (room.historyBefore > 1) {
        request({ type: 'history', room: f.room, before: room.historyBefore, limit: HISTORY_PAGE }, { room: f.room });
      } else room.historyLoaded = true;
    }
    // Messages typed while offline go out now; same clientMsgId, so the server drops duplicates.
    for (const p of room.pending.values()) if (p.status === 'pending') transmit(room, p);
    if (req?.select || (state.active === null && !req?.rejoin)) {
      selectRoom(f.room);
      $('room-input').value = '';
    } else if (state.active === f.room) request({ type: 'presence', room: f.room });
    saveRooms();
    renderRooms();
  },

  left(f) {
    state.rooms.delete(f.room);
    if (state.active === f.room) state.active = null;
    saveRooms();
    render();
  },

  message(f) {
    const room = state.rooms.get(f.room);
    if (!room) {
      // A push can overtake the `joined` reply of our first join; keep it for the join to replay.
      if (joining(f.room)) early.set(f.room, [...(early.get(f.room) ?? []), f]);
      return;
    }
    const gapFrom = room.lastSeq;
    if (f.seq > room.lastSeq) room.lastSeq = f.seq;
    if (f.seq > room.head) room.head = f.seq;
    const known = room.messages.get(f.seq);
    if (known && !known.local) return; // duplicate (resume overlap, redelivery)
    // The feed is gapless per socket except around a join's head; fetch what fell in between.
    if (f.seq > gapFrom + 1) {
      request({ type: 'history', room: f.room, after: gapFrom, limit: Math.min(200, f.seq - gapFrom - 1) }, { room: f.room, gap: true });
    }
    room.messages.set(f.seq, toMessage(f));
    if (!known && state.active !== f.room) room.unread += 1;
    state.listed.set(f.room, room.head);
    if (state.active === f.room) renderMessages();
    renderRooms();
  },

  ack(f, req) {
    const room = state.rooms.get(f.room);
    if (!room) return;
    const p = room.pending.get(f.clientMsgId);
    room.pending.delete(f.clientMsgId);
    if (p && !room.messages.has(f.seq)) {
      room.messages.set(f.seq, { seq: f.seq, id: f.id, sender: state.session.user, text: p.text, ts: Date.now(), local: true });
    }
    if (state.active === f.room) renderMessages();
  },

  history(f, req) {
    const room = state.rooms.get(f.room);
    if (!room) return;
    for (const m of f.messages) if (!room.messages.get(m.seq) || room.messages.get(m.seq).local) room.messages.set(m.seq, toMessage(m));
    if (!req?.gap) {
      room.hasMore = f.hasMore; // an `after` page's hasMore means newer, not older
      room.historyLoaded = true;
      room.loadingOlder = false;
    }
    if (state.active === f.room) renderMessages({ keepAnchor: req?.older === true });
  },

  presence(f) {
    const room = state.rooms.get(f.room);
    if (!room) return;
    room.online = [...f.online].sort((a, b) => a.localeCompare(b));
    if (state.active === f.room) renderOnline();
  },

  rooms(f) {
    state.listed = new Map(f.rooms.map((r) => [r.room, r.head]));
    for (const room of state.rooms.values()) state.listed.set(room.name, Math.max(room.head, state.listed.get(room.name) ?? 0));
    renderRooms();
  },

  pong() {
    clearTimeout(pongTimer);
  },

  error(f, req) {
    const room = req?.room ? state.rooms.get(req.room) : undefined;
    if (req?.type === 'send' && room) {
      const p = room.pending.get(req.clientMsgId);
      if (p) {
        p.status = 'failed';
        p.error = `${f.code}: ${f.message}`;
        if (state.active === room.name) renderMessages();
        return;
      }
    }
    if (req?.type === 'history' && room) room.loadingOlder = false;
    if (req?.type === 'join' || req?.type === 'create') early.delete(req.room);
    if ((req?.rejoin || req?.restore) && (f.code === 'room_not_found' || f.code === 'not_member')) {
      state.rooms.delete(req.room); // the room is gone for us; stop resuming it
      if (state.active === req.room) state.active = null;
      saveRooms();
      render();
      if (req.restore) return; // a stale entry from before a reload is not the user's mistake
    }
    toast(f.code, f.message);
  },
};

function handleFrame(frame) {
  if (!frame || typeof frame.type !== 'string' || !Object.hasOwn(handlers, frame.type)) return;
  const req = frame.rid !== undefined ? requests.get(frame.rid) : undefined;
  if (frame.rid !== undefined) requests.delete(frame.rid);
  handlers[frame.type](frame, req);
}

/** Messages pushed for a room before the reply to our first join of it. */
const early = new Map();

function joining(room) {
  for (const req of requests.values()) if ((req.type === 'join' || req.type === 'create') && req.room === room) return true;
  return false;
}

function toMessage(m) {
  return { seq: m.seq, id: m.id, sender: m.sender, text: m.text, ts: m.ts };
}

// ---------------------------------------------------------------- actions
async function login(name) {
  const res = await fetch('/api/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: name }),
  }).catch(() => null);
  if (!res) return showLoginError('network: the gateway did not answer');
  const body = await res.json().catch(() => null);
  if (!res.ok || !body?.token) {
    const err = body?.error;
    return showLoginError(err ? `${err.code}: ${err.message}` : `http_${res.status}: login failed`);
  }
  state.session = { token: body.token, user: body.user };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(state.session));
  showChat();
  connect();
}

function logout() {
  disconnect();
  sessionStorage.removeItem(SESSION_KEY);
  sessionStorage.removeItem(ROOMS_KEY);
  state.session = null;
  state.rooms.clear();
  state.listed.clear();
  state.active = null;
  showLogin();
}

function openRoom(kind, name) {
  if (state.rooms.has(name) && kind === 'join') return selectRoom(name);
  if (!request({ type: kind, room: name }, { room: name, select: true })) {
    toast('offline', 'Not connected; try again when the connection is back.');
  }
}

function selectRoom(name) {
  const room = state.rooms.get(name);
  if (!room) return openRoom('join', name);
  state.active = name;
  room.unread = 0;
  saveRooms();
  request({ type: 'presence', room: name });
  render();
  renderMessages({ toBottom: true });
  $('composer').focus();
}

function sendMessage(text) {
  const room = state.rooms.get(state.active);
  if (!room || text.trim() === '') return;
  const p = { clientMsgId: newClientMsgId(), text, status: 'pending' };
  room.pending.set(p.clientMsgId, p);
  transmit(room, p); // when offline it stays pending and goes out after the re-join
  renderMessages({ toBottom: true });
}

function transmit(room, p) {
  p.status = 'pending';
  p.error = undefined;
  request({ type: 'send', room: room.name, clientMsgId: p.clientMsgId, text: p.text }, { room: room.name, clientMsgId: p.clientMsgId });
}

function loadOlder() {
  const room = state.rooms.get(state.active);
  if (!room || room.loadingOlder || room.messages.size === 0) return;
  const oldest = Math.min(...room.messages.keys());
  if (request({ type: 'history', room: room.name, before: oldest, limit: HISTORY_PAGE }, { room: room.name, older: true })) {
    room.loadingOlder = true;
    renderMessages();
  }
}

/** crypto.randomUUID exists only in secure contexts; a plain-http deployment still needs ids. */
function newClientMsgId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---------------------------------------------------------------- rendering
const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  node.append(...children.filter(Boolean));
  return node;
}

function setConn(conn) {
  const wasOnline = state.conn === 'online';
  state.conn = conn;
  renderConn();
  if (wasOnline !== (conn === 'online')) renderMessages(); // pending lines say "sending" or "queued"
}

function render() {
  renderConn();
  renderRooms();
  renderRoom();
}

function renderConn() {
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

function renderRooms() {
  const names = new Set([...state.listed.keys(), ...state.rooms.keys()]);
  const items = [...names].sort((a, b) => a.localeCompare(b)).map((name) => {
    const room = state.rooms.get(name);
    const active = name === state.active;
    return el(
      'li',
      {},
      el(
        'button',
        {
          type: 'button',
          class: `room-item${active ? ' active' : ''}${room ? ' joined' : ''}`,
          'data-testid': 'room-item',
          'data-room': name,
          'aria-current': active ? 'true' : undefined,
          onclick: () => selectRoom(name),
        },
        el('span', { class: 'hash', 'aria-hidden': 'true', text: '#' }),
        el('span', { class: 'name', text: name }),
        room?.unread ? el('span', { class: 'badge', text: String(room.unread), 'aria-label': `${room.unread} unread` }) : null,
      ),
    );
  });
  const list = $('room-list');
  list.replaceChildren(...items);
  if (items.length === 0) list.append(el('li', { class: 'hint', text: 'No rooms yet.' }));
}

function renderRoom() {
  const room = state.rooms.get(state.active);
  $('room-title').textContent = room ? `# ${room.name}` : 'No room selected';
  $('room-leave').hidden = !room;
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

function renderOnline() {
  const room = state.rooms.get(state.active);
  const users = room?.online ?? [];
  $('online').replaceChildren(
    ...users.map((user) =>
      el('li', { 'data-testid': 'online-user', class: user === state.session?.user ? 'me' : undefined },
        el('span', { class: 'dot', 'aria-hidden': 'true' }), el('span', { text: user })),
    ),
  );
}

function renderMessages({ toBottom = false, keepAnchor = false } = {}) {
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
  for (const seq of [...room.messages.keys()].sort((a, b) => a - b)) {
    const m = room.messages.get(seq);
    take(`s${seq}`, () => messageNode(m, 'confirmed')); // our ack's copy and the push look the same
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
    { class: `msg ${mine ? 'mine' : ''} ${status}`, 'data-testid': 'message', 'data-status': status, 'data-seq': m.seq, 'data-sender': m.sender },
    el('div', { class: 'meta' },
      el('span', { class: 'sender', 'data-testid': 'message-sender', text: m.sender }),
      el('time', { datetime: new Date(m.ts).toISOString(), text: formatTime(m.ts) }),
      statusText ? el('span', { class: 'status', 'data-testid': 'message-status', title: status, text: statusText }) : null),
    el('div', { class: 'text', 'data-testid': 'message-text', text: m.text }),
    status === 'failed'
      ? el('div', { class: 'inline-error', role: 'alert', 'data-testid': 'message-error' },
          el('span', { text: pending.error ?? 'not sent' }),
          el('button', { type: 'button', class: 'link', text: 'Retry', onclick: () => { transmit(room, pending); renderMessages(); } }),
          el('button', { type: 'button', class: 'link', text: 'Discard', onclick: () => { room.pending.delete(pending.clientMsgId); renderMessages(); } }))
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

function toast(code, message) {
  const node = el('div', { class: 'toast', role: 'alert', 'data-testid': 'error', 'data-code': code },
    el('strong', { text: code }),
    el('span', { text: message }),
    el('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss', text: '×', onclick: () => node.remove() }));
  document.querySelector('.toasts').append(node);
  setTimeout(() => node.remove(), TOAST_MS);
}

function showLoginError(text) {
  const p = $('login-error');
  p.textContent = text;
  p.hidden = false;
}

function showLogin() {
  document.getElementById('chat-view').hidden = true;
  document.getElementById('login-view').hidden = false;
  $('me').hidden = true;
  $('logout').hidden = true;
  render();
  $('login-name').focus();
}

function showChat() {
  document.getElementById('login-view').hidden = true;
  document.getElementById('chat-view').hidden = false;
  $('login-error').hidden = true;
  $('me').textContent = state.session.user;
  $('me').hidden = false;
  $('logout').hidden = false;
  render();
  $('room-input').focus();
}

// ---------------------------------------------------------------- wiring
$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = $('login-name').value.trim();
  if (!name) return showLoginError('Enter a name.');
  $('login-submit').disabled = true;
  login(name).finally(() => { $('login-submit').disabled = false; });
});

$('room-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('room-input');
  const name = input.value.trim();
  const kind = event.submitter?.value === 'create' ? 'create' : 'join';
  input.setCustomValidity(ROOM_PATTERN.test(name) ? '' : 'Use 1-64 letters, digits, _ or -.');
  if (!input.reportValidity()) return;
  openRoom(kind, name);
});

$('composer-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const box = $('composer');
  if (box.value.trim() === '') return;
  sendMessage(box.value);
  box.value = '';
  autosize(box);
});

$('composer').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $('composer-form').requestSubmit();
  }
});
$('composer').addEventListener('input', (event) => autosize(event.target));
function autosize(box) {
  box.style.height = 'auto';
  box.style.height = `${box.scrollHeight}px`;
}

$('load-older').addEventListener('click', loadOlder);
$('logout').addEventListener('click', logout);
$('rooms-refresh').addEventListener('click', () => request({ type: 'rooms' }));
$('room-leave').addEventListener('click', () => state.active && request({ type: 'leave', room: state.active }, { room: state.active }));
// The reconnect banner counts down; the browser regaining network skips the wait.
setInterval(() => state.conn === 'reconnecting' && renderConn(), 1000);
addEventListener('online', () => state.session && !socket && connect());

if (state.session) {
  showChat();
  connect();
} else showLogin();
