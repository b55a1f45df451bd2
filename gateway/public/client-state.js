// Everything this tab knows, in memory; the DOM is rendered from it.
import { loadSession, saveRooms } from './saved-session.js';

export const state = {
  /** @type {{token: string, user: string} | null} */
  session: loadSession(),
  conn: 'offline', // offline | connecting | online | reconnecting
  /** From GET /api/auth: 'dev' (name-only login) or 'jwt' (tokens from an identity provider). */
  authMode: 'unknown',
  gateway: '',
  reconnectAt: 0,
  /** Rooms the server listed (`rooms` reply): name -> head. */
  listed: new Map(),
  /** Private rooms among those listed or joined. */
  privateRooms: new Set(),
  /** Private rooms the user is invited to (not joined yet). */
  invites: new Set(),
  /** Rooms this client has joined: name -> room (room-state.js). */
  rooms: new Map(),
  /** @type {string | null} */
  active: null,
};

/** Remembers the joined rooms and the open one, so a reload can join them again. */
export function persistRooms() {
  saveRooms([...state.rooms.keys()], state.active);
}
