// The NATS users and permissions (shared/src/bus/nats-permissions.ts) against a real nats-server
// that runs them as the local platform and a ChatCluster do: who may connect, and that each user
// is refused what another process's job is. The chat path under these permissions is every
// other e2e test (they all run on startPlatform, which locks NATS down the same way).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connect, PermissionViolationError, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startNats, type RunningNats } from '@chorus/local/servers/nats';
import { streamName, subjects } from '@chorus/shared/bus/names';
import { ensureMessageStream } from '@chorus/shared/bus/jetstream-setup';
import { connectNats, natsAuthOptions, type NatsCredentials } from '@chorus/shared/bus/nats-connection';
import { inboxPrefixOf, natsUsers, newNatsPassword, type NatsUser } from '@chorus/shared/bus/nats-permissions';
import { createLogger } from '@chorus/shared/logging/logger';
import { waitUntil } from './support/wait-until.js';

let dir: string;
let nats: RunningNats;
const passwords = Object.fromEntries(natsUsers.map((user) => [user, newNatsPassword()])) as Record<NatsUser, string>;
const as = (user: NatsUser): NatsCredentials => ({ user, password: passwords[user] });
const open: NatsConnection[] = [];

async function connectAs(user: NatsUser): Promise<NatsConnection> {
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: 0, ...natsAuthOptions(as(user)) });
  open.push(nc);
  return nc;
}

/** The error a refused subscription ends with (nats.js closes it with the server's -ERR). */
async function subscriptionError(sub: Subscription): Promise<unknown> {
  try {
    for await (const _ of sub) {
      // a delivered message would mean the subscription was allowed
      return undefined;
    }
  } catch (error) {
    return error;
  }
  return undefined;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chorus-nats-permissions-'));
  nats = await startNats({ dataDir: dir, passwords });
  const owner = await connectAs('message-service');
  await ensureMessageStream(owner);
});
after(async () => {
  for (const nc of open) await nc.close().catch(() => {});
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('who may connect', () => {
  test('without credentials, with a guessed user and with a wrong password the server refuses the connection', async () => {
    for (const options of [{}, { user: 'admin', pass: 'admin' }, { user: 'gateway', pass: 'wrong' }, { user: 'route', pass: passwords.gateway }]) {
      await assert.rejects(connect({ servers: nats.url, maxReconnectAttempts: 0, ...options }), (error: Error) => {
        assert.match(error.message, /authorization violation/i, JSON.stringify(options));
        return true;
      });
    }
  });

  test('every user of the table connects with its own password', async () => {
    for (const user of natsUsers) assert.ok((await connectAs(user)).info?.server_id, user);
  });
});

describe('what each user is refused', () => {
  test('a gateway cannot purge or delete the stream; the stream keeps its messages', async () => {
    const gateway = await connectAs('gateway');
    const js = jetstream(gateway);
    await js.publish(subjects.inbound('perm-room'), JSON.stringify({ n: 1 }));
    const jsm = await jetstreamManager(gateway);
    for (const call of [() => jsm.streams.purge(streamName), () => jsm.streams.delete(streamName)]) {
      await assert.rejects(call(), (error: Error) => {
        assert.match(error.message, /permissions violation/i);
        return true;
      });
    }
    const owner = await jetstreamManager(await connectAs('message-service'));
    assert.ok((await owner.streams.info(streamName)).state.messages >= 1);
  });

  test('a gateway cannot serve the message-service\'s RPCs (roomAdmin), so it cannot answer in its name', async () => {
    const gateway = await connectAs('gateway');
    const error = await subscriptionError(gateway.subscribe(subjects.roomAdminRpc, { queue: 'message-service' }));
    assert.ok(error instanceof PermissionViolationError, String(error));
    assert.equal(error.operation, 'subscription');
    assert.equal(error.subject, subjects.roomAdminRpc);
  });

  test('the message-service cannot publish a message into a room (forge a sender)', async () => {
    const gateway = await connectAs('gateway');
    const live = gateway.subscribe(subjects.live('forged'));
    const received: string[] = [];
    void (async () => {
      for await (const m of live) received.push(m.string());
    })();
    await gateway.flush();
    const service = await connectAs('message-service');
    const refused = new Promise<PermissionViolationError>((resolve) => {
      void (async () => {
        for await (const status of service.status()) if (status.type === 'error' && status.error instanceof PermissionViolationError) resolve(status.error);
      })();
    });
    service.publish(subjects.inbound('forged'), JSON.stringify({ sender: 'someone-else' }));
    const error = await refused;
    assert.equal(error.operation, 'publish');
    assert.equal(error.subject, subjects.inbound('forged'));
    // A publish that was allowed would be in the stream and on the live feed by now.
    await gateway.flush();
    const owner = await jetstreamManager(service);
    const last = await owner.direct.getMessage(streamName, { last_by_subj: subjects.inbound('forged') }).catch(() => null);
    assert.equal(last, null);
    assert.deepEqual(received, []);
  });

  test('nobody can read another user\'s replies: _INBOX.> and the others\' prefixes are refused', async () => {
    for (const user of natsUsers) {
      const nc = await connectAs(user);
      const others = natsUsers.filter((u) => u !== user).map((u) => `${inboxPrefixOf(u)}.>`);
      for (const subject of ['_INBOX.>', ...others]) {
        const error = await subscriptionError(nc.subscribe(subject));
        assert.ok(error instanceof PermissionViolationError, `${user} on ${subject}: ${String(error)}`);
      }
    }
  });

  test('the operator and the preflight cannot read the live feed of rooms or publish into them', async () => {
    for (const user of ['operator'] as const) {
      const nc = await connectAs(user);
      assert.ok((await subscriptionError(nc.subscribe(subjects.liveAll))) instanceof PermissionViolationError, user);
    }
    const preflight = await connectAs('preflight');
    const jsm = await jetstreamManager(preflight);
    await assert.rejects(jsm.streams.purge(streamName), /permissions violation/i);
  });
});

describe('what each user is allowed', () => {
  test('a gateway request to an RPC is answered by the message-service (allow_responses), replies under the gateway\'s inbox', async () => {
    const gateway = await connectAs('gateway');
    const service = await connectAs('message-service');
    const sub = service.subscribe(subjects.roomsRpc, { queue: 'message-service', callback: (_, m) => void m.respond(JSON.stringify({ ok: true, reply: m.reply })) });
    await service.flush();
    const answer = (await gateway.request(subjects.roomsRpc, '{}', { timeout: 5_000 })).json<{ ok: boolean; reply: string }>();
    assert.equal(answer.ok, true);
    assert.ok(answer.reply.startsWith(`${inboxPrefixOf('gateway')}.`), answer.reply);
    sub.unsubscribe();
  });

  test('the operator writes the batching settings and reads the writer\'s backlog', async () => {
    const operator = await connectAs('operator');
    const { Kvm } = await import('@nats-io/kv');
    const kv = await new Kvm(operator).create('chorus_settings', { history: 5 });
    await kv.put('batching', JSON.stringify({ batchSize: 10, flushIntervalMs: 5 }));
    assert.equal((await kv.get('batching'))?.json<{ batchSize: number }>().batchSize, 10);
    const jsm = await jetstreamManager(operator);
    assert.ok((await jsm.consumers.info(streamName, 'message-service')).config.durable_name);
    await assert.rejects(jsm.consumers.delete(streamName, 'message-service'), /permissions violation/i);
  });
});

test('a refused publish is logged with its subject and the connection goes on', async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write: (chunk, _, done) => (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) });
  const nc = await connectNats(nats.url, 'permissions log test', { credentials: as('message-service'), logger: createLogger('nats', {}, sink) });
  open.push(nc);
  nc.publish(subjects.inbound('logged'), 'x');
  await waitUntil(() => lines.some((l) => l.subject === subjects.inbound('logged')), 5_000, 'the violation logged');
  const line = lines.find((l) => l.subject === subjects.inbound('logged'))!;
  assert.equal(line.operation, 'publish');
  assert.match(String(line.msg), /NATS refused this publish \(permissions violation\): chorus\.in\.logged/);
  assert.equal(nc.isClosed(), false);
  await nc.flush(); // still connected and answering
});
