import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { SignJWT } from 'jose';
import { startNats, type RunningNats } from '@chorus/local/servers/nats';
import { startRedis, type RunningRedis } from '@chorus/local/servers/redis';
import { clientSubprotocols } from '@chorus/shared/protocol/auth-subprotocol';
import { closeCodes } from '@chorus/shared/protocol/close-codes';
import type { ServerFrame } from '@chorus/shared/protocol/server-frames';
import { startGateway, type Gateway, type GatewayConfig } from '../src/gateway.js';

// Two gateways in jwt mode (tokens signed here, as an application backend would) and one in dev
// mode, on a real NATS and Redis. No message-service: identity is decided before any room exists.
const secret = 'the-backend-and-gateway-share-this-32+';
const adminToken = 'an-admin-token-of-at-least-32-characters';
const issuer = 'https://app.example';
let dir: string;
let nats: RunningNats;
let redis: RunningRedis;
let gatewayA: Gateway;
let gatewayB: Gateway;
let devGateway: Gateway;
let noAdminGateway: Gateway;
const now = () => Math.floor(Date.now() / 1000);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chorus-identity-'));
  [nats, redis] = await Promise.all([startNats({ dataDir: join(dir, 'nats') }), startRedis({ dataDir: join(dir, 'redis') })]);
  const common: Omit<GatewayConfig, 'auth'> = { natsUrl: nats.url, redisUrl: redis.url, redisPassword: redis.password, port: 0, metricsPort: 0, adminToken };
  const jwt = { mode: 'jwt', hs256Secret: secret, issuer, audience: 'chorus', clockToleranceSeconds: 0, maxLifetimeSeconds: 3600 } as const;
  gatewayA = await startGateway({ ...common, auth: jwt, gatewayId: 'gw-a', allowedOrigins: ['https://chat.example.com'] });
  gatewayB = await startGateway({ ...common, auth: jwt, gatewayId: 'gw-b' });
  devGateway = await startGateway({ ...common, gatewayId: 'gw-dev', auth: { mode: 'dev', secret, issuer: 'chorus-dev', audience: 'chorus', ttlSeconds: 600 } });
  noAdminGateway = await startGateway({ ...common, adminToken: undefined, auth: jwt, gatewayId: 'gw-no-admin' });
});

after(async () => {
  for (const gateway of [gatewayA, gatewayB, devGateway, noAdminGateway]) await gateway?.close();
  await Promise.all([nats?.stop(), redis?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

function token(claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ sub: 'alice', iss: issuer, aud: 'chorus', iat: now(), exp: now() + 600, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));
}

const wsUrl = (gateway: Gateway, path = '/ws') => `ws://127.0.0.1:${gateway.port}${path}`;

/** A socket that recorded its frames; `opened` resolves on welcome, or rejects with the HTTP refusal. */
function open(url: string, protocols: string[], headers: Record<string, string> = {}) {
  const socket = new WebSocket(url, protocols, { headers });
  const frames: ServerFrame[] = [];
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  const opened = new Promise<ServerFrame>((resolve, reject) => {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as ServerFrame;
      frames.push(frame);
      if (frame.type === 'welcome') resolve(frame);
    });
    socket.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk));
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body: JSON.parse(body || '{}') })));
    });
    socket.on('error', () => {});
  });
  const reply = (rid: number) =>
    new Promise<ServerFrame>((resolve) => {
      const check = () => {
        const found = frames.find((f) => 'rid' in f && f.rid === rid);
        if (found) resolve(found);
        else socket.once('message', check);
      };
      check();
    });
  return { socket, frames, opened, closed, reply };
}

async function refusedWith(url: string, protocols: string[], headers: Record<string, string> = {}): Promise<{ status: number; code: string }> {
  const { opened } = open(url, protocols, headers);
  const error = (await opened.then(
    () => assert.fail('the upgrade must be refused'),
    (e: unknown) => e,
  )) as { status: number; body: { error: { code: string } } };
  return { status: error.status, code: error.body.error?.code };
}

function revoke(gateway: Gateway, body: unknown, bearer = adminToken): Promise<Response> {
  return fetch(`http://127.0.0.1:${gateway.metricsPort}/admin/revoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('connect', { timeout: 20_000 }, () => {
  test('a token in Sec-WebSocket-Protocol connects; the gateway selects chorus.v2 and never echoes the token', async () => {
    const { socket, opened } = open(wsUrl(gatewayA), clientSubprotocols(await token({ sub: 'erin' })));
    const welcome = await opened;
    assert.equal(welcome.type === 'welcome' && welcome.user, 'erin');
    assert.equal(socket.protocol, 'chorus.v2');
    socket.close();
  });

  test('a token in the URL is refused with 400 token_in_url, even with a valid subprotocol token', async () => {
    const good = await token();
    assert.deepEqual(await refusedWith(`${wsUrl(gatewayA)}?token=${good}`, clientSubprotocols(good)), { status: 400, code: 'token_in_url' });
    assert.deepEqual(await refusedWith(`${wsUrl(gatewayA)}?token=${good}`, []), { status: 400, code: 'token_in_url' });
  });

  test('no token, a forged one, one without exp, or no chorus.v2 offer is refused', async () => {
    assert.deepEqual(await refusedWith(wsUrl(gatewayA), ['chorus.v2']), { status: 401, code: 'token_required' });
    const forged = await new SignJWT({ sub: 'alice', iss: issuer, aud: 'chorus', exp: now() + 60 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(40)));
    assert.deepEqual(await refusedWith(wsUrl(gatewayA), clientSubprotocols(forged)), { status: 401, code: 'invalid_token' });
    const noExp = await new SignJWT({ sub: 'alice', iss: issuer, aud: 'chorus' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
    assert.deepEqual(await refusedWith(wsUrl(gatewayA), clientSubprotocols(noExp)), { status: 401, code: 'invalid_token' });
    assert.deepEqual(await refusedWith(wsUrl(gatewayA), [`chorus.bearer.${await token()}`]), { status: 400, code: 'protocol_required' });
  });

  test('a browser Origin must be on the allowlist; without a list only the gateway\'s own host; no Origin is a non-browser client', async () => {
    const good = clientSubprotocols(await token());
    assert.deepEqual(await refusedWith(wsUrl(gatewayA), good, { origin: 'https://evil.example' }), { status: 403, code: 'origin_not_allowed' });
    const listed = open(wsUrl(gatewayA), good, { origin: 'https://chat.example.com' });
    await listed.opened;
    listed.socket.close();
    // Gateway B has no allowlist: its own host passes, any other page does not.
    const own = open(wsUrl(gatewayB), good, { origin: `http://127.0.0.1:${gatewayB.port}` });
    await own.opened;
    own.socket.close();
    assert.deepEqual(await refusedWith(wsUrl(gatewayB), good, { origin: 'https://chat.example.com' }), { status: 403, code: 'origin_not_allowed' });
    assert.deepEqual(await refusedWith(wsUrl(gatewayB), good, { origin: 'null' }), { status: 403, code: 'origin_not_allowed' });
  });
});

describe('dev login', { timeout: 20_000 }, () => {
  test('with dev mode off, POST /api/login answers 404 with a JSON error and /api/auth says jwt', async () => {
    const response = await fetch(`http://127.0.0.1:${gatewayA.port}/api/login`, { method: 'POST', body: JSON.stringify({ user: 'mallory' }) });
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'dev_login_disabled');
    assert.deepEqual(await (await fetch(`http://127.0.0.1:${gatewayA.port}/api/auth`)).json(), { mode: 'jwt' });
  });

  test('in dev mode the login issues a token that connects, and /api/auth says dev', async () => {
    assert.equal(((await (await fetch(`http://127.0.0.1:${devGateway.port}/api/auth`)).json()) as { mode: string }).mode, 'dev');
    const response = await fetch(`http://127.0.0.1:${devGateway.port}/api/login`, { method: 'POST', body: JSON.stringify({ user: 'dora' }) });
    assert.equal(response.status, 200);
    const { token: dev } = (await response.json()) as { token: string };
    const { socket, opened } = open(wsUrl(devGateway), clientSubprotocols(dev));
    assert.equal(((await opened) as { user: string }).user, 'dora');
    socket.close();
    // A dev token is not valid on a jwt-mode gateway (other issuer), even with the same key.
    assert.deepEqual(await refusedWith(wsUrl(gatewayA), clientSubprotocols(dev)), { status: 401, code: 'invalid_token' });
  });
});

describe('expiry and refresh', { timeout: 20_000 }, () => {
  test('a live socket is closed with 4001 token_expired when its token expires', async () => {
    const exp = now() + 2;
    const { opened, closed } = open(wsUrl(gatewayA), clientSubprotocols(await token({ sub: 'frank', exp })));
    const welcome = await opened;
    assert.equal(welcome.type === 'welcome' && welcome.expiresAt, exp * 1000);
    assert.equal(await closed, closeCodes.tokenExpired);
    assert.ok(Date.now() >= exp * 1000, 'not before exp');
  });

  test('a refresh with a new token for the same user keeps the socket open past the old expiry', async () => {
    const oldExp = now() + 2;
    const { socket, opened, reply, closed } = open(wsUrl(gatewayA), clientSubprotocols(await token({ sub: 'gina', exp: oldExp })));
    await opened;
    let closeCode: number | undefined;
    void closed.then((code) => (closeCode = code));

    socket.send(JSON.stringify({ type: 'refresh', rid: 1, token: await token({ sub: 'someone-else' }) }));
    const wrongUser = await reply(1);
    assert.equal(wrongUser.type === 'error' && wrongUser.code, 'invalid_token');
    socket.send(JSON.stringify({ type: 'refresh', rid: 2, token: 'garbage' }));
    assert.equal(((await reply(2)) as { code: string }).code, 'invalid_token');

    const newExp = now() + 120;
    socket.send(JSON.stringify({ type: 'refresh', rid: 3, token: await token({ sub: 'gina', exp: newExp }) }));
    assert.deepEqual(await reply(3), { type: 'refreshed', rid: 3, expiresAt: newExp * 1000 });
    // Wait until the old token is well past its expiry, then show the socket still answers.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => Date.now() > oldExp * 1000 + 500 && (clearInterval(poll), resolve()), 50);
    });
    socket.send(JSON.stringify({ type: 'ping', rid: 4 }));
    assert.equal((await reply(4)).type, 'pong');
    assert.equal(closeCode, undefined);
    socket.close();
  });
});

describe('revocation', { timeout: 20_000 }, () => {
  test('the admin endpoint needs the admin token and a valid body', async () => {
    assert.equal((await revoke(gatewayA, { user: 'alice' }, 'wrong-token')).status, 401);
    assert.equal((await revoke(gatewayA, { user: 'no spaces' })).status, 400);
    assert.equal((await revoke(gatewayA, { user: 'a', jti: 'b' })).status, 400);
    // Without ADMIN_TOKEN there is no admin endpoint.
    assert.equal((await revoke(noAdminGateway, { user: 'alice' })).status, 404);
    // The public port has no admin endpoint.
    const publicPort = await fetch(`http://127.0.0.1:${gatewayA.port}/admin/revoke`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` }, body: '{"user":"alice"}' });
    assert.equal(publicPort.status, 405);
  });

  test('revoking a user on gateway A closes their live socket on gateway B with 4002, and the token is refused at connect', async () => {
    const hans = await token({ sub: 'hans', iat: now() - 5 });
    const live = open(wsUrl(gatewayB), clientSubprotocols(hans));
    await live.opened;
    const bystander = open(wsUrl(gatewayB), clientSubprotocols(await token({ sub: 'ivy' })));
    await bystander.opened;

    assert.equal((await revoke(gatewayA, { user: 'hans' })).status, 200);
    assert.equal(await live.closed, closeCodes.tokenRevoked);
    assert.deepEqual(await refusedWith(wsUrl(gatewayA), clientSubprotocols(hans)), { status: 401, code: 'token_revoked' });
    assert.deepEqual(await refusedWith(wsUrl(gatewayB), clientSubprotocols(hans)), { status: 401, code: 'token_revoked' });
    // Other users stay connected; a token issued after the revocation works again.
    bystander.socket.send(JSON.stringify({ type: 'ping', rid: 1 }));
    assert.equal((await bystander.reply(1)).type, 'pong');
    const fresh = open(wsUrl(gatewayB), clientSubprotocols(await token({ sub: 'hans', iat: now() + 2 })));
    await fresh.opened;
    fresh.socket.close();
    bystander.socket.close();
  });

  test('revoking one token id closes only the socket that uses it', async () => {
    const first = open(wsUrl(gatewayA), clientSubprotocols(await token({ sub: 'jo', jti: 'jo-laptop' })));
    const second = open(wsUrl(gatewayB), clientSubprotocols(await token({ sub: 'jo', jti: 'jo-phone' })));
    await Promise.all([first.opened, second.opened]);
    assert.equal((await revoke(gatewayB, { jti: 'jo-laptop' })).status, 200);
    assert.equal(await first.closed, closeCodes.tokenRevoked);
    second.socket.send(JSON.stringify({ type: 'ping', rid: 1 }));
    assert.equal((await second.reply(1)).type, 'pong');
    // A refresh to a revoked token is refused too.
    second.socket.send(JSON.stringify({ type: 'refresh', rid: 2, token: await token({ sub: 'jo', jti: 'jo-laptop' }) }));
    assert.equal(((await second.reply(2)) as { code: string }).code, 'invalid_token');
    second.socket.close();
  });
});

describe('HTTP', { timeout: 20_000 }, () => {
  test('/metrics is served only on the metrics port, not on the public port', async () => {
    const publicMetrics = await fetch(`http://127.0.0.1:${gatewayA.port}/metrics`);
    assert.equal(publicMetrics.status, 404);
    const metrics = await fetch(`http://127.0.0.1:${gatewayA.metricsPort}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^chorus_gateway_connections /m);
    assert.equal((await fetch(`http://127.0.0.1:${gatewayA.metricsPort}/readyz`)).status, 200);
    assert.notEqual(gatewayA.metricsPort, gatewayA.port);
  });

  test('the page and every public answer carry the security headers', async () => {
    for (const path of ['/', '/app.js', '/api/auth', '/healthz', '/nowhere']) {
      const response = await fetch(`http://127.0.0.1:${gatewayA.port}${path}`);
      const csp = response.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'/, `${path}: CSP`);
      assert.match(csp, /frame-ancestors 'none'/, `${path}: CSP frame-ancestors`);
      assert.doesNotMatch(csp, /unsafe-inline/);
      assert.equal(response.headers.get('x-frame-options'), 'DENY', path);
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer', path);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', path);
    }
  });
});
