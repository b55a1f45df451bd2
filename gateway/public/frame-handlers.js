// What each server frame does to state: one handler per frame type, given the request it answers
// (matched by rid) when it is a reply. Pushes that overtake a join's reply wait here.
import { state, persistRooms } from './client-state.js';
import { $ } from './dom.js';
import { HISTORY_PAGE, MAX_HELD, WINDOW, confirmPending, mergeHistory, newRoom, receiveMessage, trimOldest } from './room-state.js';
import { render, renderMessages, renderOnline, renderPushed, renderRoomItem, renderRooms, toast } from './render.js';
import { savedRooms } from './saved-session.js';

/**
 * @param {import('./connection.js').Connection} connection
 * @param {ReturnType<typeof import('./actions.js').createActions>} actions
 * @param {ReturnType<typeof import('./admin-panel.js').createAdminPanel>} admin
 */
export function createFrameHandlers(connection, actions, admin) {
  const request = (frame, meta) => connection.request(frame, meta);
  /** Messages pushed for a room before the reply to our first join of it. */
  const early = new Map();

  const handlers = {
    welcome(f) {
      state.gateway = f.gateway;
      connection.markOnline();
      connection.scheduleRefresh(f.expiresAt);
      request({ type: 'rooms' });
      for (const room of state.rooms.values()) {
        request({ type: 'join', room: room.name, after: room.lastPos }, { room: room.name, rejoin: true });
      }
      // After a page reload: join again what this tab had open (history reloads from the server).
      const saved = state.rooms.size === 0 ? savedRooms() : { joined: [], active: null };
      for (const name of saved.joined) request({ type: 'join', room: name }, { room: name, select: name === saved.active, restore: true });
    },

    refreshed(f) {
      connection.scheduleRefresh(f.expiresAt);
    },

    joined(f, req) {
      const first = !state.rooms.has(f.room);
      const room = first ? newRoom(f.room, f.head) : state.rooms.get(f.room);
      if (first) {
        state.rooms.set(f.room, room);
        for (const m of early.get(f.room) ?? []) handlers.message(m);
        early.delete(f.room);
      }
      room.head = Math.max(room.head, f.head);
      room.readFrom = f.readFrom ?? 0;
      if (req?.private || state.invites.has(f.room)) state.privateRooms.add(f.room); // invites are to private rooms
      state.invites.delete(f.room);
      // Nothing at or before readFrom is ours to read: history starts after it.
      if (room.historyBefore <= room.readFrom + 1) room.historyLoaded = true;
      state.listed.set(f.room, Math.max(state.listed.get(f.room) ?? 0, f.head));
      if (!room.historyLoaded) {
        if (room.historyBefore > 1) {
          request({ type: 'history', room: f.room, before: room.historyBefore, limit: HISTORY_PAGE }, { room: f.room });
        } else room.historyLoaded = true;
      }
      // Messages typed while offline go out now, as resends: same clientMsgId, so a message the
      // server already stored is answered with its original position, never stored twice.
      for (const p of room.pending.values()) if (p.status === 'pending') actions.transmit(room, p);
      if (req?.select || (state.active === null && !req?.rejoin)) {
        actions.selectRoom(f.room);
        $('room-input').value = '';
      } else if (state.active === f.room) request({ type: 'presence', room: f.room });
      persistRooms();
      renderRooms();
    },

    left(f) {
      forgetRoom(f.room);
    },

    removed(f) {
      // An admin took us out: the gateway already stopped the room's messages to us.
      forgetRoom(f.room);
      state.listed.delete(f.room);
      toast(f.reason, `You were ${f.reason} from #${f.room}.`);
      render();
    },

    message(f) {
      const room = state.rooms.get(f.room);
      if (!room) {
        // A push can overtake the `joined` reply of our first join; keep it for the join to replay.
        if (joining(f.room)) early.set(f.room, [...(early.get(f.room) ?? []), f]);
        return;
      }
      const received = receiveMessage(room, f);
      if (received === 'duplicate') return;
      if (received === 'gap') {
        // Something between our position and this message did not reach us: resume from our position.
        if (!connection.awaits((req) => req.type === 'join' && req.room === f.room)) rejoin(room);
        return;
      }
      state.listed.set(f.room, room.head);
      const reading = state.active === f.room;
      const box = $('messages');
      const atBottom = !reading || box.scrollHeight - box.scrollTop - box.clientHeight < 80;
      // A bounded window: the oldest go while the reader is at the bottom; never more than MAX_HELD.
      const dropped = trimOldest(room, atBottom ? WINDOW : MAX_HELD);
      if (reading) return renderPushed(room, f.pos, dropped);
      if (received.fresh) {
        room.unread += 1;
        renderRoomItem(f.room);
      }
    },

    ack(f) {
      const room = state.rooms.get(f.room);
      if (!room) return;
      confirmPending(room, f, state.session.user);
      if (state.active === f.room) renderMessages();
    },

    history(f, req) {
      const room = state.rooms.get(f.room);
      if (!room) return;
      mergeHistory(room, f.messages);
      room.hasMore = f.hasMore;
      trimOldest(room, MAX_HELD); // says hasMore when it drops any
      room.historyLoaded = true;
      room.loadingOlder = false;
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
      state.privateRooms = new Set(f.rooms.filter((r) => r.visibility === 'private').map((r) => r.room));
      state.invites = new Set(f.invites ?? []);
      for (const room of state.rooms.values()) state.listed.set(room.name, Math.max(room.head, state.listed.get(room.name) ?? 0));
      renderRooms();
    },

    pong() {
      connection.pong();
    },

    error(f, req) {
      if (req?.admin) return admin.onError(f, req);
      if (f.code === 'not_invited' && req?.room) state.invites.delete(req.room);
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
      if (f.code === 'catchup_failed' && f.room && state.rooms.has(f.room)) {
        // The gateway could not read what we missed; it stopped the room for us. Try again shortly.
        setTimeout(() => rejoin(state.rooms.get(f.room)), 1_000);
        return;
      }
      if (req?.type === 'join' || req?.type === 'create') early.delete(req.room);
      if ((req?.rejoin || req?.restore) && ['room_not_found', 'not_member', 'not_invited', 'banned'].includes(f.code)) {
        state.rooms.delete(req.room); // the room is gone for us; stop resuming it
        if (state.active === req.room) state.active = null;
        persistRooms();
        render();
        if (req.restore) return; // a stale entry from before a reload is not the user's mistake
      }
      toast(f.code, f.message);
    },
  };

  function forgetRoom(name) {
    state.rooms.delete(name);
    admin.forget(name);
    if (state.active === name) state.active = null;
    persistRooms();
    render();
  }

  function rejoin(room) {
    if (room && state.rooms.get(room.name) === room) request({ type: 'join', room: room.name, after: room.lastPos }, { room: room.name, rejoin: true });
  }

  function joining(room) {
    return connection.awaits((req) => (req.type === 'join' || req.type === 'create') && req.room === room);
  }

  return {
    /** Routes one parsed frame; anything not a known frame type is ignored. */
    dispatch(frame) {
      if (!frame || typeof frame.type !== 'string') return;
      if (admin.handles(frame.type)) return admin.onFrame(frame, connection.takeRequest(frame.rid));
      if (!Object.hasOwn(handlers, frame.type)) return;
      handlers[frame.type](frame, connection.takeRequest(frame.rid));
    },
    /** The socket went away: a replay buffer would wait for a join reply that never comes. */
    forgetEarly() {
      early.clear();
    },
  };
}
