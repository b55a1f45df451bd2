// The upgrade preflight against the real local servers (nats-server with JetStream, redis-server,
// FerretDB) with a running gateway and message-service: it passes on a sound platform, and each
// incompatibility it exists to catch fails it, naming the check.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startPlatform, type Platform } from '@chorus/local/platform';
import { streamName } from '@chorus/shared/bus/names';
import { natsAuthOptions } from '@chorus/shared/bus/nats-connection';
import type { PreflightSummary } from '../src/preflight/check-result.js';

const preflightMain = fileURLToPath(new URL('../src/preflight/main.js', import.meta.url));

describe('upgrade preflight on the local platform', { timeout: 180_000 }, () => {
  let platform: Platform;
  let dataDir: string;
  let mongo: MongoClient;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'preflight-'));
    platform = await startPlatform({ dataDir, gateways: 1, messageServices: 1 });
    mongo = await new MongoClient(platform.mongoUri).connect();
  });
  after(async () => {
    await mongo?.close();
    await platform?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const run = (): Promise<{ code: number | null; stdout: string; summary: PreflightSummary }> =>
    new Promise((resolve, reject) => {
      const resultFile = join(dataDir, `result-${Date.now()}.json`);
      const child = spawn(process.execPath, [preflightMain], {
        env: {
          PATH: process.env.PATH,
          NATS_URL: platform.natsUrl,
          NATS_USER: 'preflight',
          NATS_PASSWORD: platform.natsCredentials.preflight.password,
          REDIS_URL: platform.redisUrl,
          REDIS_PASSWORD: platform.redisPassword,
          MONGODB_URI: platform.mongoUri,
          PREFLIGHT_VERSION: 'test',
          PREFLIGHT_RESULT_FILE: resultFile,
        },
        timeout: 150_000,
      });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, summary: JSON.parse(readFileSync(resultFile, 'utf8')) as PreflightSummary }));
    });

  test('passes on a sound platform: stream, consumer, settings, Redis, indexes, stored data, and a canary message', async (t) => {
    const { code, stdout, summary } = await run();
    t.diagnostic(stdout.trim());
    assert.equal(code, 0, stdout);
    assert.deepEqual(summary.passed, ['nats.connect', 'nats.stream', 'nats.consumer', 'nats.settings', 'redis', 'mongodb.connect', 'mongodb.indexes', 'mongodb.data', 'canary.message']);
    assert.match(stdout, /PASS mongodb\.indexes: 6\/6 indexes present/);
    assert.match(stdout, /PASS canary\.message: room preflight-[0-9a-f]+: sent, acked and delivered/);
    // The canary crossed the live message-service: its room is stored.
    assert.ok(await mongo.db('chorus').collection('rooms').findOne({ _id: /^preflight-/ as never }), 'the canary room was created through the rooms RPC');
  });

  test('fails on an index of the same name with other options (the new message-services could not start), naming the check', async (t) => {
    const messages = mongo.db('chorus').collection('messages');
    await messages.dropIndex('room_pos');
    await messages.createIndex({ room: 1, pos: 1 }, { name: 'room_pos' }); // not unique
    try {
      const { code, stdout, summary } = await run();
      t.diagnostic(stdout.trim());
      assert.equal(code, 1, stdout);
      assert.equal(summary.ok, false);
      assert.equal(summary.failed?.check, 'mongodb.indexes');
      assert.match(summary.failed!.detail, /messages\.room_pos is \{"room":1,"pos":1\}, this version needs \{"room":1,"pos":1\} unique/);
      assert.doesNotMatch(stdout, /canary\.message/, 'no canary on an incompatible platform');
    } finally {
      await messages.dropIndex('room_pos');
      await messages.createIndex({ room: 1, pos: 1 }, { name: 'room_pos', unique: true });
    }
  });

  test('fails on a stream whose live republish goes elsewhere (the new gateways would deliver nothing)', async (t) => {
    // The stream's owner may change it; the preflight user may not.
    const nc = await connect({ servers: platform.natsUrl, ...natsAuthOptions(platform.natsCredentials['message-service']) });
    try {
      const jsm = await jetstreamManager(nc);
      const { config } = await jsm.streams.info(streamName);
      await jsm.streams.update(streamName, { ...config, republish: { src: 'chorus.in.>', dest: 'chorus.old.>' } });
      const { code, stdout, summary } = await run();
      t.diagnostic(stdout.trim());
      assert.equal(code, 1, stdout);
      assert.equal(summary.failed?.check, 'nats.stream');
      assert.match(summary.failed!.detail, /republish \{"src":"chorus\.in\.>","dest":"chorus\.old\.>"\}, this version delivers from/);
    } finally {
      await nc.close();
    }
  });
});
