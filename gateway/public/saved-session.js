// What survives a page reload, in sessionStorage (per tab): the login token and the joined rooms.
// Everything read back is checked, since storage may hold anything.
import { ROOM_PATTERN } from './room-state.js';

const SESSION_KEY = 'chorus.session';
const ROOMS_KEY = 'chorus.rooms';

/** @returns {{token: string, user: string} | null} */
export function loadSession() {
  try {
    const value = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    return value && typeof value.token === 'string' && typeof value.user === 'string' ? value : null;
  } catch {
    return null;
  }
}

export function saveSession(session) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function forgetSession() {
  sessionStorage.removeItem(SESSION_KEY);
  sessionStorage.removeItem(ROOMS_KEY);
}

export function saveRooms(joined, active) {
  sessionStorage.setItem(ROOMS_KEY, JSON.stringify({ joined, active }));
}

/** @returns {{joined: string[], active: string | null}} */
export function savedRooms() {
  try {
    const value = JSON.parse(sessionStorage.getItem(ROOMS_KEY) ?? 'null');
    const joined = Array.isArray(value?.joined) ? value.joined.filter((r) => typeof r === 'string' && ROOM_PATTERN.test(r)) : [];
    return { joined, active: typeof value?.active === 'string' ? value.active : null };
  } catch {
    return { joined: [], active: null };
  }
}
