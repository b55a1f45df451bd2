// The room admin panel: settings and members with roles, under the room's edit lease. "Edit"
// takes the `settings` lease for this tab (another tab of the same user is another session and
// sees the panel read-only); while editing, each member action takes that member's lease for the
// one write. When someone else holds the settings lease the panel says who and stays read-only.
import { $, el } from './dom.js';
import { state } from './client-state.js';
import { render as renderPage, toast } from './render.js';

const RENEW_EVERY_MS = 10_000;
/** While open, the panel asks again this often, to see leases and members come and go. */
const REFRESH_EVERY_MS = 3_000;
/** Inputs whose typed values survive a redraw. */
const TYPED = ['admin-name', 'admin-topic', 'admin-visibility', 'admin-history', 'admin-invite-user'];
const MEMBER_OPS = { promote: 'Promote', demote: 'Demote', remove: 'Remove', ban: 'Ban' };

/** @param {import('./connection.js').Connection} connection */
export function createAdminPanel(connection) {
  const panel = {
    /** @type {string | null} */
    room: null,
    info: null,
    /** This tab's settings lease: { fence, expiresAt }. */
    lease: null,
    renewTimer: 0,
    refreshTimer: 0,
  };
  const request = (frame, meta = {}) => connection.request(frame, { ...meta, admin: true });

  function open(room) {
    close();
    panel.room = room;
    panel.info = null;
    $('admin-panel').hidden = false;
    refresh();
    panel.refreshTimer = setInterval(refresh, REFRESH_EVERY_MS);
    render();
  }

  function close() {
    if (panel.lease && panel.room) request({ type: 'lease_release', room: panel.room, target: 'settings', fence: panel.lease.fence });
    stopEditing();
    clearInterval(panel.refreshTimer);
    panel.room = null;
    $('admin-panel').hidden = true;
  }

  function refresh() {
    if (panel.room) request({ type: 'room_info', room: panel.room }, { room: panel.room });
  }

  function edit() {
    request({ type: 'lease_acquire', room: panel.room, target: 'settings' }, { room: panel.room, step: 'edit' });
  }

  function stopEditing() {
    clearInterval(panel.renewTimer);
    panel.lease = null;
  }

  function done() {
    if (panel.lease) request({ type: 'lease_release', room: panel.room, target: 'settings', fence: panel.lease.fence }, { room: panel.room });
    stopEditing();
    refresh();
    render();
  }

  function save() {
    if (!panel.lease) return;
    const settings = {
      name: $('admin-name').value.trim() || undefined,
      topic: $('admin-topic').value,
      visibility: $('admin-visibility').value,
      history: $('admin-history').value,
    };
    request({ type: 'settings', room: panel.room, fence: panel.lease.fence, settings }, { room: panel.room });
  }

  /** One member write: take member:<user>'s lease, write with its fence, release it. */
  function memberAction(op, user) {
    if (!panel.lease) return;
    request({ type: 'lease_acquire', room: panel.room, target: `member:${user}` }, { room: panel.room, step: 'member-lease', op, user });
  }

  const frames = {
    room_info(f) {
      if (f.room !== panel.room) return;
      showTopic(f.room, f.settings.topic);
      const { rid: _, ...info } = f;
      if (JSON.stringify(info) === JSON.stringify(panel.info)) return; // nothing new: keep the DOM as it is
      panel.info = info;
      render();
    },
    lease(f, req) {
      if (f.room !== panel.room) return;
      if (req?.step === 'edit') {
        panel.lease = { fence: f.fence, expiresAt: f.expiresAt };
        clearInterval(panel.renewTimer);
        panel.renewTimer = setInterval(() => {
          if (panel.lease) request({ type: 'lease_renew', room: panel.room, target: 'settings', fence: panel.lease.fence }, { room: panel.room, step: 'renew' });
        }, RENEW_EVERY_MS);
        refresh();
      } else if (req?.step === 'renew' && panel.lease) {
        panel.lease.expiresAt = f.expiresAt;
      } else if (req?.step === 'member-lease') {
        request({ type: req.op, room: f.room, user: req.user, fence: f.fence }, { room: f.room, step: 'member-op', target: f.target, fence: f.fence });
      }
      render();
    },
    member_updated(f, req) {
      if (req?.target) request({ type: 'lease_release', room: f.room, target: req.target, fence: req.fence });
      refresh();
    },
    settings(f) {
      showTopic(f.room, f.settings.topic);
      if (f.room === panel.room) toast('saved', `Settings of #${f.room} saved.`);
      // The saved values replace what was typed (draw, unlike render, does not keep typed values).
      panel.info = panel.info && { ...panel.info, settings: f.settings };
      draw($('admin-panel'));
      refresh();
    },
    lease_released() {},
  };

  /** The room header shows the topic the panel last read. */
  function showTopic(name, topic) {
    const room = state.rooms.get(name);
    if (!room || room.topic === topic) return;
    room.topic = topic;
    renderPage();
  }

  function onError(f, req) {
    if (req?.step === 'member-op' && req.target) request({ type: 'lease_release', room: req.room, target: req.target, fence: req.fence });
    if (req?.step === 'renew' || f.code === 'lease_expired' || f.code === 'stale_fence') stopEditing();
    if (f.code === 'lease_held' && req?.step === 'edit') {
      refresh(); // the panel shows who holds it
    } else toast(f.code, f.message);
    render();
  }

  function render() {
    const box = $('admin-panel');
    if (!panel.room) return box.replaceChildren();
    // What the editor typed but has not saved stays in place across a redraw, and so do the
    // focus and caret: the 3 s refresh must not swallow the keystrokes of someone typing.
    const typed = panel.lease ? TYPED.map((id) => [id, $(id)?.value]).filter(([, v]) => v !== undefined) : [];
    const focused = box.contains(document.activeElement) ? document.activeElement : null;
    const focusedId = focused?.getAttribute('data-testid');
    const caret = focused && 'selectionStart' in focused ? [focused.selectionStart, focused.selectionEnd] : null;
    draw(box);
    for (const [id, value] of typed) if ($(id)) $(id).value = value;
    const refocus = focusedId ? $(focusedId) : null;
    if (refocus && !refocus.disabled) {
      refocus.focus();
      if (caret && caret[0] !== null) refocus.setSelectionRange(caret[0], caret[1]);
    }
  }

  function draw(box) {
    box.replaceChildren(...parts().filter(Boolean));
  }

  function parts() {
    const info = panel.info;
    const settingsLease = info?.leases.find((l) => l.target === 'settings');
    const mine = Boolean(panel.lease);
    const canEdit = info && (info.role === 'owner' || info.role === 'admin');
    const heldByOther = !mine && settingsLease;
    const status = mine
      ? `You are editing (until ${new Date(panel.lease.expiresAt).toLocaleTimeString()})`
      : heldByOther
        ? `Being edited by ${settingsLease.holder} — read-only`
        : canEdit ? 'Not being edited' : 'Read-only: only admins edit';
    const readOnly = !mine;
    const s = info?.settings;
    const field = (label, input) => el('label', { class: 'field' }, el('span', { text: label }), input);
    const select = (testid, value, options) =>
      el('select', { 'data-testid': testid, disabled: readOnly }, ...options.map((o) => el('option', { value: o, selected: o === value, text: o })));
    return [
      el('div', { class: 'admin-head' },
        el('h2', { text: `Admin · #${panel.room}` }),
        el('button', { type: 'button', class: 'link', 'data-testid': 'admin-close', text: 'Close', onclick: close })),
      el('p', { class: `lease-state${heldByOther ? ' held' : ''}`, 'data-testid': 'lease-state', 'data-mode': mine ? 'editing' : heldByOther ? 'read-only' : 'free', role: 'status', text: info ? status : 'Loading…' }),
      el('div', { class: 'row' },
        mine
          ? el('button', { type: 'button', 'data-testid': 'admin-done', text: 'Done', onclick: done })
          : el('button', { type: 'button', class: 'primary', 'data-testid': 'admin-edit', text: 'Edit', disabled: !canEdit || Boolean(heldByOther), onclick: edit })),
      s
        ? el('form', { class: 'admin-settings', 'data-testid': 'admin-settings', onsubmit: (e) => (e.preventDefault(), save()) },
            field('Name', el('input', { 'data-testid': 'admin-name', value: s.name, maxlength: 80, disabled: readOnly })),
            field('Topic', el('input', { 'data-testid': 'admin-topic', value: s.topic, maxlength: 300, disabled: readOnly })),
            field('Visibility', select('admin-visibility', s.visibility, ['public', 'private'])),
            field('History for new members', select('admin-history', s.history, ['all', 'since_join'])),
            el('button', { type: 'submit', 'data-testid': 'admin-save', text: 'Save settings', disabled: readOnly }))
        : null,
      info ? el('h3', { text: `Members (${info.members.length}${info.truncated ? '+' : ''})` }) : null,
      info
        ? el('ul', { class: 'admin-members' },
            ...info.members.map((m) =>
              el('li', { 'data-testid': 'admin-member', 'data-user': m.user, 'data-role': m.role },
                el('span', { class: 'who', text: m.user }),
                el('span', { class: `role ${m.role}`, text: m.role }),
                ...(readOnly || m.user === state.session?.user || m.role === 'owner'
                  ? []
                  : Object.entries(MEMBER_OPS)
                      .filter(([op]) => (op === 'promote' ? m.role === 'member' : op === 'demote' ? m.role === 'admin' && info.role === 'owner' : m.role === 'member' || info.role === 'owner'))
                      .map(([op, label]) => el('button', { type: 'button', class: 'link', 'data-testid': `admin-${op}`, text: label, onclick: () => memberAction(op, m.user) }))))))
        : null,
      info && (info.invites.length || info.bans.length)
        ? el('p', { class: 'hint', text: [info.invites.length ? `Invited: ${info.invites.join(', ')}` : '', info.bans.length ? `Banned: ${info.bans.join(', ')}` : ''].filter(Boolean).join(' · ') })
        : null,
      info
        ? el('form', { class: 'row', 'data-testid': 'admin-invite-form', onsubmit: (e) => {
            e.preventDefault();
            const input = $('admin-invite-user');
            if (input.value.trim()) memberAction('invite', input.value.trim());
            input.value = '';
          } },
            el('input', { 'data-testid': 'admin-invite-user', placeholder: 'user to invite', maxlength: 32, disabled: readOnly }),
            el('button', { type: 'submit', 'data-testid': 'admin-invite', text: 'Invite', disabled: readOnly }))
        : null,
    ];
  }

  return {
    open,
    close,
    /** The panel's room went away for us (left, removed). */
    forget(room) {
      if (panel.room === room) close();
    },
    handles: (type) => Object.hasOwn(frames, type),
    onFrame: (frame, req) => frames[frame.type](frame, req),
    onError,
  };
}
