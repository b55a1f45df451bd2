// What the user can do: log in and out, open a room, send, retry, load older messages.
// Each changes state, asks the server through the connection, and re-renders.
import { state, persistRooms } from './client-state.js';
import { $ } from './dom.js';
import { newClientMsgId } from './client-msg-id.js';
import { HISTORY_PAGE, addPending, oldestPos } from './room-state.js';
import { forgetSession, saveSession } from './saved-session.js';
import { render, renderMessages, showChat, showLogin, showLoginError, toast } from './render.js';

/** @param {import('./connection.js').Connection} connection */
export function createActions(connection) {
  async function login(name) {
    const res = await devLogin(name);
    if (!res) return showLoginError('network: the gateway did not answer');
    const body = await res.json().catch(() => null);
    if (!res.ok || !body?.token) {
      const err = body?.error;
      return showLoginError(err ? `${err.code}: ${err.message}` : `http_${res.status}: login failed`);
    }
    state.session = { token: body.token, user: body.user };
    saveSession(state.session);
    showChat();
    connection.connect();
  }

  /**
   * A new token for the logged-in user before the old one expires. Dev mode: the name-only login
   * again. With an identity provider the page has no way to get one, so the session ends.
   */
  async function renewToken() {
    if (state.authMode !== 'dev' || !state.session) return null;
    const res = await devLogin(state.session.user);
    const body = res?.ok ? await res.json().catch(() => null) : null;
    if (typeof body?.token !== 'string' || !state.session) return null;
    // Same session object: the connection tells a log-out from a renewal by identity.
    state.session.token = body.token;
    saveSession(state.session);
    return body.token;
  }

  function logout() {
    connection.disconnect();
    forgetSession();
    state.session = null;
    state.rooms.clear();
    state.listed.clear();
    state.privateRooms.clear();
    state.invites.clear();
    state.active = null;
    showLogin();
  }

  function openRoom(kind, name, visibility) {
    if (state.rooms.has(name) && kind === 'join') return selectRoom(name);
    if (!connection.request({ type: kind, room: name, ...(visibility && { visibility }) }, { room: name, select: true, private: visibility === 'private' })) {
      toast('offline', 'Not connected; try again when the connection is back.');
    }
  }

  function selectRoom(name) {
    const room = state.rooms.get(name);
    if (!room) return openRoom('join', name);
    state.active = name;
    room.unread = 0;
    persistRooms();
    connection.request({ type: 'presence', room: name });
    render();
    renderMessages({ toBottom: true });
    $('composer').focus();
  }

  function sendMessage(text) {
    const room = state.rooms.get(state.active);
    if (!room || text.trim() === '') return;
    const p = addPending(room, newClientMsgId(), text);
    transmit(room, p); // when offline it stays pending and goes out after the re-join
    renderMessages({ toBottom: true });
  }

  function transmit(room, p) {
    p.status = 'pending';
    p.error = undefined;
    const frame = { type: 'send', room: room.name, clientMsgId: p.clientMsgId, text: p.text, ...(p.sent && { resend: true }) };
    if (connection.request(frame, { room: room.name, clientMsgId: p.clientMsgId })) p.sent = true;
  }

  function retry(room, p) {
    transmit(room, p);
    renderMessages();
  }

  function discard(room, p) {
    room.pending.delete(p.clientMsgId);
    renderMessages();
  }

  function loadOlder() {
    const room = state.rooms.get(state.active);
    if (!room || room.loadingOlder || room.messages.size === 0) return;
    if (connection.request({ type: 'history', room: room.name, before: oldestPos(room), limit: HISTORY_PAGE }, { room: room.name, older: true })) {
      room.loadingOlder = true;
      renderMessages();
    }
  }

  function leaveActive() {
    return state.active && connection.request({ type: 'leave', room: state.active }, { room: state.active });
  }

  return { login, renewToken, logout, openRoom, selectRoom, sendMessage, transmit, retry, discard, loadOlder, leaveActive };
}

function devLogin(name) {
  return fetch('/api/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: name }),
  }).catch(() => null);
}
