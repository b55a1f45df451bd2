// The one WebSocket of this tab: opening it with the session token, reconnecting with backoff,
// keep-alive pings, refreshing the token before it expires, and numbering requests (rid) so
// replies and errors can be matched to them. It knows nothing of rooms or the DOM; the app hears
// about it through hooks.

const PING_EVERY_MS = 20_000;
const PONG_TIMEOUT_MS = 10_000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;
/** The gateway refuses a bad token at the HTTP upgrade (401), which a browser only sees as a failed
 *  socket; when the gateway is up (/healthz) yet refuses us this many times in a row, log in again. */
const REFUSALS_BEFORE_RELOGIN = 2;
/** The token travels in Sec-WebSocket-Protocol, never in the URL (shared/src/protocol/auth-subprotocol.ts). */
const PROTOCOL_VERSION = 'chorus.v2';
const BEARER_PREFIX = 'chorus.bearer.';
/** Close codes of shared/src/protocol/close-codes.ts. */
const CLOSE_TOKEN_EXPIRED = 4001;
const CLOSE_TOKEN_REVOKED = 4002;
/** 1012: the gateway drained and closed us (it is shutting down): reconnect at once, no backoff. */
const CLOSE_DRAINING = 1012;
/** Refresh this long before the token expires; a token with under 4 minutes left, at 3/4 of its remaining life. */
const REFRESH_LEAD_MS = 60_000;

/**
 * @typedef {'offline' | 'connecting' | 'online' | 'reconnecting'} ConnState
 * @typedef {object} ConnectionHooks
 * @property {() => ({token: string} | null)} session the current session; compared by identity to notice a log-out
 * @property {(state: ConnState, reconnectAt: number) => void} onState
 * @property {(frame: any) => void} onFrame a parsed frame; its handler takes the request with takeRequest(frame.rid)
 * @property {() => void} onReset the socket is gone: every request in flight is forgotten
 * @property {() => void} onRejected the gateway is up but keeps refusing this session
 * @property {() => Promise<string | null>} renewToken a new token for the same user, or null when there is none
 * @property {() => void} onRevoked the gateway ended the socket because the session was revoked
 * @property {(code: string, message: string) => void} onError
 */

export class Connection {
  /** @param {ConnectionHooks} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    /** @type {ConnState} */
    this.state = 'offline';
    /** @type {WebSocket | null} */
    this.socket = null;
    this.nextRid = 1;
    /** rid -> what was asked, so replies and errors can be routed. */
    this.requests = new Map();
    this.attempt = 0;
    this.refusals = 0;
    /** When the scheduled reconnect fires (ms since epoch), for the countdown. */
    this.reconnectAt = 0;
    this.reconnectTimer = 0;
    this.pingTimer = 0;
    this.pongTimer = 0;
    this.refreshTimer = 0;
    this.moveTimer = 0;
  }

  connect() {
    clearTimeout(this.reconnectTimer);
    const session = this.hooks.session();
    if (!session) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws`, [PROTOCOL_VERSION, BEARER_PREFIX + session.token]);
    this.socket = ws;
    this.setState(this.attempt === 0 ? 'connecting' : 'reconnecting');
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      this.refusals = 0;
    });
    ws.addEventListener('message', (event) => {
      if (ws !== this.socket) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return this.hooks.onError('bad_frame', 'The server sent something that is not JSON.');
      }
      if (frame.type === 'reconnect') return this.moveAfter(ws, frame.afterMs);
      this.hooks.onFrame(frame);
    });
    ws.addEventListener('close', async (event) => {
      if (ws !== this.socket) return;
      this.socket = null;
      this.stopPing();
      clearTimeout(this.refreshTimer);
      clearTimeout(this.moveTimer);
      this.forgetRequests();
      if (!this.hooks.session()) return this.setState('offline');
      const session = this.hooks.session();
      if (event.code === CLOSE_TOKEN_REVOKED) return this.hooks.onRevoked();
      if (event.code === CLOSE_TOKEN_EXPIRED) {
        // Missed the refresh (a sleeping laptop): get a new token first, then reconnect.
        if (!(await this.hooks.renewToken())) return this.hooks.onRejected();
      }
      if (!opened && (await gatewayIsUp()) && ++this.refusals >= REFUSALS_BEFORE_RELOGIN) {
        if (this.hooks.session() !== session) return;
        return this.hooks.onRejected();
      }
      if (this.hooks.session() !== session || this.socket) return;
      // Left a draining gateway (by its reconnect frame, or it closed us): the Service sends the new
      // socket to another one; welcome resumes every room with `after` and resends what is unconfirmed.
      if (ws.movingOn || event.code === CLOSE_DRAINING) {
        this.attempt = 1;
        return this.connect();
      }
      this.scheduleReconnect();
    });
  }

  /** The gateway is draining: after the delay it chose for us, close this socket and connect again. */
  moveAfter(ws, afterMs) {
    clearTimeout(this.moveTimer);
    const delay = Number.isFinite(afterMs) && afterMs >= 0 ? Math.min(afterMs, 600_000) : 0;
    this.moveTimer = setTimeout(() => {
      if (ws !== this.socket) return;
      ws.movingOn = true;
      ws.close(1000, 'moving to another gateway');
    }, delay);
  }

  /** True while a socket exists (open or opening); used to skip a redundant connect. */
  get attached() {
    return this.socket !== null;
  }

  /** The server greeted us: the backoff starts over and keep-alive begins. */
  markOnline() {
    this.attempt = 0;
    this.setState('online');
    this.startPing();
  }

  /** Renews the token ahead of `expiresAt` (ms since epoch, from welcome or refreshed). */
  scheduleRefresh(expiresAt) {
    clearTimeout(this.refreshTimer);
    const remaining = expiresAt - Date.now();
    const delay = Math.max(0, remaining > 4 * REFRESH_LEAD_MS ? remaining - REFRESH_LEAD_MS : remaining * 0.75);
    this.refreshTimer = setTimeout(async () => {
      const token = await this.hooks.renewToken();
      if (token) this.request({ type: 'refresh', token });
    }, delay);
  }

  disconnect() {
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.moveTimer);
    clearTimeout(this.refreshTimer);
    this.stopPing();
    const ws = this.socket;
    this.socket = null;
    this.forgetRequests();
    ws?.close(1000, 'logout');
    this.attempt = 0;
    this.setState('offline');
  }

  /** Sends a request; returns false when there is no open socket (the caller decides what that means). */
  request(frame, meta = {}) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN || this.state !== 'online') return false;
    const rid = this.nextRid++;
    this.requests.set(rid, { type: frame.type, ...meta });
    this.socket.send(JSON.stringify({ ...frame, rid }));
    return true;
  }

  /** The request a reply answers (by its rid), removed from those in flight; undefined for pushes. */
  takeRequest(rid) {
    if (rid === undefined) return undefined;
    const req = this.requests.get(rid);
    this.requests.delete(rid);
    return req;
  }

  /** Whether some request still in flight matches. */
  awaits(predicate) {
    for (const req of this.requests.values()) if (predicate(req)) return true;
    return false;
  }

  pong() {
    clearTimeout(this.pongTimer);
  }

  setState(state) {
    this.state = state;
    this.hooks.onState(state, this.reconnectAt);
  }

  scheduleReconnect() {
    this.attempt += 1;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (this.attempt - 1));
    const delay = Math.round(base * (0.5 + Math.random() / 2)); // jitter spreads a herd of clients
    this.reconnectAt = Date.now() + delay;
    this.setState('reconnecting');
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  startPing() {
    this.stopPing();
    this.pingTimer = setInterval(() => {
      if (!this.request({ type: 'ping' })) return;
      // A socket can look open while the path is dead; no pong means start over.
      this.pongTimer = setTimeout(() => this.socket?.close(4000, 'pong timeout'), PONG_TIMEOUT_MS);
    }, PING_EVERY_MS);
  }

  stopPing() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }

  forgetRequests() {
    this.requests.clear();
    this.hooks.onReset();
  }
}

async function gatewayIsUp() {
  try {
    return (await fetch('/healthz', { cache: 'no-store' })).ok;
  } catch {
    return false;
  }
}
