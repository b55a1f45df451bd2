// Chorus browser client: one WebSocket per tab, all state in memory, the DOM rendered from state.
// This file wires the parts together and starts the page:
//   connection.js      the WebSocket: login token, reconnect with backoff, pings, request ids
//   frame-handlers.js  what each server frame does to state
//   room-state.js      one room's messages, resume point, gaps and duplicates, pending sends
//   actions.js         what the user can do
//   admin-panel.js     the room admin panel: settings and members under the edit lease
//   render.js          the DOM, drawn from client-state.js (dom.js: text-only element building)
//   saved-session.js   what survives a reload (sessionStorage)
import { state } from './client-state.js';
import { Connection } from './connection.js';
import { createActions } from './actions.js';
import { createFrameHandlers } from './frame-handlers.js';
import { createAdminPanel } from './admin-panel.js';
import { $ } from './dom.js';
import { ROOM_PATTERN } from './room-state.js';
import { bindActions, renderAuthMode, renderConn, renderMessages, showChat, showLogin, showLoginError, toast } from './render.js';

const connection = new Connection({
  session: () => state.session,
  onState(conn, reconnectAt) {
    const wasOnline = state.conn === 'online';
    state.conn = conn;
    state.reconnectAt = reconnectAt;
    renderConn();
    if (wasOnline !== (conn === 'online')) renderMessages(); // pending lines say "sending" or "queued"
  },
  onFrame: (frame) => frames.dispatch(frame),
  onReset: () => frames.forgetEarly(),
  onRejected() {
    actions.logout();
    showLoginError('session_rejected: the gateway no longer accepts this session; log in again');
  },
  renewToken: () => actions.renewToken(),
  onRevoked() {
    actions.logout();
    showLoginError('token_revoked: this session was revoked by an administrator');
  },
  onError: toast,
});
const actions = createActions(connection);
const admin = createAdminPanel(connection);
const frames = createFrameHandlers(connection, actions, admin);
bindActions({ selectRoom: actions.selectRoom, retry: actions.retry, discard: actions.discard });

// ---------------------------------------------------------------- wiring
$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = $('login-name').value.trim();
  if (!name) return showLoginError('Enter a name.');
  $('login-submit').disabled = true;
  actions.login(name).finally(() => { $('login-submit').disabled = false; });
});

$('room-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('room-input');
  const name = input.value.trim();
  const kind = event.submitter?.value === 'create' ? 'create' : 'join';
  input.setCustomValidity(ROOM_PATTERN.test(name) ? '' : 'Use 1-64 letters, digits, _ or -.');
  if (!input.reportValidity()) return;
  actions.openRoom(kind, name, kind === 'create' && $('room-private').checked ? 'private' : undefined);
  $('room-private').checked = false;
});

$('composer-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const box = $('composer');
  if (box.value.trim() === '') return;
  actions.sendMessage(box.value);
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

$('load-older').addEventListener('click', actions.loadOlder);
$('logout').addEventListener('click', actions.logout);
$('rooms-refresh').addEventListener('click', () => connection.request({ type: 'rooms' }));
$('room-leave').addEventListener('click', actions.leaveActive);
$('room-admin').addEventListener('click', () => state.active && admin.open(state.active));
// The reconnect banner counts down; the browser regaining network skips the wait.
setInterval(() => state.conn === 'reconnecting' && renderConn(), 1000);
addEventListener('online', () => state.session && !connection.attached && connection.connect());

// ---------------------------------------------------------------- startup
state.authMode = await fetch('/api/auth', { cache: 'no-store' })
  .then((res) => res.json())
  .then((body) => (body?.mode === 'dev' || body?.mode === 'jwt' ? body.mode : 'unknown'))
  .catch(() => 'unknown');
renderAuthMode();
if (state.session) {
  showChat();
  connection.connect();
} else showLogin();
