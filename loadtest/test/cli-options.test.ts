import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runConfigFromFlags, UsageError } from '../src/config/cli-options.js';
import { parseDurationMs } from '../src/config/duration.js';
import { gatewayEndpoint } from '../src/client/gateway-url.js';

const gw = { gateway: ['http://127.0.0.1:8080'] };

test('defaults are sane and complete', () => {
  const c = runConfigFromFlags('steady', gw, {});
  assert.equal(c.users, 1000);
  assert.equal(c.largeRoomSize, 1000);
  assert.equal(c.schedule.durationMs, 30_000);
  assert.equal(c.schedule.rate, 200);
  assert.equal(c.schedule.rampFromRate, 20);
  assert.equal(c.slo.deliveryP99Ms, 1000);
  assert.equal(c.slo.maxErrors, 0);
  assert.match(c.runId, /^[a-z0-9]{6}$/);
  assert.deepEqual(c.gateways, ['http://127.0.0.1:8080']);
});

test('the large room defaults to min(1000, users)', () => {
  assert.equal(runConfigFromFlags('steady', { ...gw, users: '200' }, {}).largeRoomSize, 200);
  assert.equal(runConfigFromFlags('steady', { ...gw, users: '5000' }, {}).largeRoomSize, 1000);
  assert.throws(() => runConfigFromFlags('steady', { ...gw, users: '200', largeRoom: '201' }, {}), /--large-room: 201 is above the maximum 200/);
});

test('gateways: repeatable, comma-separated, or from LOADTEST_GATEWAY', () => {
  const c = runConfigFromFlags('ramp', { gateway: ['http://a:8080,http://b:8080', 'https://c/'] }, {});
  assert.deepEqual(c.gateways, ['http://a:8080', 'http://b:8080', 'https://c']);
  const fromEnv = runConfigFromFlags('ramp', {}, { LOADTEST_GATEWAY: 'http://chat-gateway:8080' });
  assert.deepEqual(fromEnv.gateways, ['http://chat-gateway:8080']);
  const flagWins = runConfigFromFlags('ramp', gw, { LOADTEST_GATEWAY: 'http://other:1' });
  assert.deepEqual(flagWins.gateways, ['http://127.0.0.1:8080']);
  assert.throws(() => runConfigFromFlags('ramp', {}, {}), /no gateway/);
  assert.throws(() => runConfigFromFlags('ramp', { gateway: ['ws://x:1'] }, {}), /must be an http/);
  assert.throws(() => runConfigFromFlags('ramp', { gateway: ['not a url'] }, {}), /is not a URL/);
});

test('the socket URL is derived from the http base', () => {
  assert.deepEqual(gatewayEndpoint('http://chat-gateway:8080'), {
    base: 'http://chat-gateway:8080',
    loginUrl: 'http://chat-gateway:8080/api/login',
    wsUrl: 'ws://chat-gateway:8080/ws',
  });
  assert.equal(gatewayEndpoint('https://example.test/chorus/').wsUrl, 'wss://example.test/chorus/ws');
});

test('bad values name the flag', () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ users: 'many' }, /--users: "many" is not an integer/],
    [{ users: '0' }, /--users: 0 is below the minimum 1/],
    [{ rate: '-1' }, /--rate/],
    [{ duration: 'soon' }, /--duration: "soon" is not a duration/],
    [{ duration: '500ms' }, /--duration: must be at least 1s/],
    [{ messageSize: '5000' }, /--message-size: 5000 is above the maximum 4000/],
    [{ messageSize: '3' }, /--message-size: 3 is below the minimum/],
    [{ burstFraction: '1.5' }, /--burst-fraction/],
    [{ roomMix: '2-3' }, /--room-mix/],
    [{ runId: 'Bad_Id' }, /--run-id/],
  ];
  for (const [flags, message] of bad) {
    assert.throws(() => runConfigFromFlags('steady', { ...gw, ...flags }, {}), (e: unknown) => e instanceof UsageError && message.test(e.message));
  }
});

test('unknown profile and a burst past the end are rejected', () => {
  assert.throws(() => runConfigFromFlags('midnight', gw, {}), /profile "midnight" is not one of steady, ramp, new-year/);
  assert.throws(
    () => runConfigFromFlags('new-year', { ...gw, duration: '10s', burstAt: '8s', burstWindow: '5s' }, {}),
    /must end within --duration/,
  );
  // The same timing is fine for a profile without a burst.
  assert.doesNotThrow(() => runConfigFromFlags('steady', { ...gw, duration: '10s', burstAt: '8s', burstWindow: '5s' }, {}));
});

test('durations accept ms, s, m and bare seconds', () => {
  assert.equal(parseDurationMs('1500ms'), 1500);
  assert.equal(parseDurationMs('2.5s'), 2500);
  assert.equal(parseDurationMs('2m'), 120_000);
  assert.equal(parseDurationMs('7'), 7000);
  assert.throws(() => parseDurationMs('-1s'));
});
