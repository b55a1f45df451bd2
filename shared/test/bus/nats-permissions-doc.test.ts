// docs/security.md's table of NATS users is this table: the test renders nats-permissions.ts and
// compares it with the docs between the markers, and prints the table to paste when they differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inboxPrefixOf, natsPermissions, natsUsers, passwordEnvOf } from '../../src/bus/nats-permissions.js';

const docs = fileURLToPath(new URL('../../../../docs/security.md', import.meta.url));
const start = '<!-- nats-permissions:start (generated from shared/src/bus/nats-permissions.ts; shared/test/bus/nats-permissions-doc.test.ts checks it) -->';
const end = '<!-- nats-permissions:end -->';

function table(): string {
  const code = (subjects: readonly string[]) => subjects.map((s) => `\`${s}\``).join('<br>');
  const rows = natsUsers.map((user) => {
    const p = natsPermissions[user];
    return `| \`${user}\` | ${p.purpose} | ${code(p.publish)} | ${code(p.subscribe)} | ${p.allowResponses ? 'yes' : 'no'} | \`${inboxPrefixOf(user)}\` | \`${passwordEnvOf(user)}\` |`;
  });
  return [
    '| user | what for | may publish to | may subscribe to | answers requests (`allow_responses`) | reply inbox | password (Secret key, env) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

test('docs/security.md lists every NATS user with exactly its permissions', () => {
  const text = readFileSync(docs, 'utf8');
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  assert.ok(from >= 0 && to > from, `docs/security.md lacks the markers ${start} ... ${end}`);
  const documented = text.slice(from + start.length, to).trim();
  assert.equal(documented, table(), `docs/security.md's NATS table is out of date; put this between the markers:\n${table()}`);
});
