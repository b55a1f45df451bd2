import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type CryptoKey } from 'jose';
import { JwtVerifier, type JwtVerifierOptions } from '../src/auth/jwt-verifier.js';
import { DevTokenIssuer } from '../src/auth/dev-token-issuer.js';

const secret = 'a-backend-shared-secret-of-32-chars!';
const base: JwtVerifierOptions = { hs256Secret: secret, issuer: 'https://app.example', audience: 'chorus', clockToleranceSeconds: 5, maxLifetimeSeconds: 3600 };
const now = () => Math.floor(Date.now() / 1000);

/** An HS256 token as an application backend would sign it; `claims` override the defaults. */
function hs256(claims: Record<string, unknown> = {}, key = secret, omit: string[] = []): Promise<string> {
  const payload: Record<string, unknown> = { sub: 'alice', iss: 'https://app.example', aud: 'chorus', iat: now(), exp: now() + 600, ...claims };
  for (const name of omit) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(key));
}

async function refusal(verifier: JwtVerifier, token: string): Promise<string> {
  const result = await verifier.verify(token);
  assert.equal(result.ok, false, 'the token must be refused');
  return (result as { reason: string }).reason;
}

test('HS256: a good token gives its user, jti, iat and exp', async () => {
  const verifier = new JwtVerifier(base);
  const exp = now() + 600;
  const result = await verifier.verify(await hs256({ jti: 't-1', exp }));
  assert.deepEqual(result, { ok: true, token: { user: 'alice', tokenId: 't-1', issuedAt: now(), expiresAt: exp } });
});

test('HS256: forged, expired, without exp, wrong iss, wrong aud and not-yet-valid tokens are refused', async () => {
  const verifier = new JwtVerifier(base);
  assert.match(await refusal(verifier, await hs256({}, 'another-secret-of-at-least-32-chars!!')), /signature/i);
  assert.equal(await refusal(verifier, await hs256({ iat: now() - 120, exp: now() - 60 })), 'token expired');
  assert.match(await refusal(verifier, await hs256({}, secret, ['exp'])), /exp/);
  assert.match(await refusal(verifier, await hs256({ iss: 'https://evil.example' })), /iss/);
  assert.match(await refusal(verifier, await hs256({ aud: 'another-app' })), /aud/);
  assert.match(await refusal(verifier, await hs256({ nbf: now() + 120 })), /nbf/);
  assert.match(await refusal(verifier, 'not.a.jwt'), /./);
  // Within the clock tolerance: a token that expired 2 s ago still passes (5 s tolerance).
  assert.equal((await verifier.verify(await hs256({ exp: now() - 2 }))).ok, true);
});

test('the user comes from the configured claim and must be a valid user name', async () => {
  const byEmail = new JwtVerifier({ ...base, userClaim: 'preferred_username' });
  const result = await byEmail.verify(await hs256({ sub: 'u-123', preferred_username: 'bob.smith' }));
  assert.equal(result.ok && result.token.user, 'bob.smith');
  assert.match(await refusal(byEmail, await hs256({ sub: 'u-123' })), /preferred_username/);
  assert.match(await refusal(new JwtVerifier(base), await hs256({ sub: 'has spaces' })), /claim sub/);
  assert.match(await refusal(new JwtVerifier(base), await hs256({ sub: 'x'.repeat(33) })), /claim sub/);
});

test('a token living longer than the maximum lifetime is refused (it would outlive a revocation entry)', async () => {
  const verifier = new JwtVerifier(base);
  assert.match(await refusal(verifier, await hs256({ exp: now() + 7200 })), /lifetime/);
  assert.match(await refusal(verifier, await hs256({ exp: now() + 7200 }, secret, ['iat'])), /lifetime/);
  assert.match(await refusal(verifier, await hs256({ jti: 'x'.repeat(129) })), /jti/);
});

test('an HS256-only verifier refuses RS256 tokens, and a JWKS-only verifier refuses HS256 tokens', async () => {
  const { privateKey } = await generateKeyPair('RS256');
  const rs = await new SignJWT({ sub: 'alice', iss: base.issuer, aud: 'chorus', exp: now() + 60 }).setProtectedHeader({ alg: 'RS256', kid: 'k' }).sign(privateKey);
  assert.match(await refusal(new JwtVerifier(base), rs), /ALG_NOT_ALLOWED|alg/i);
  const jwks = await startJwksServer();
  const jwksOnly = new JwtVerifier({ ...base, hs256Secret: undefined, jwksUrl: jwks.url });
  assert.match(await refusal(jwksOnly, await hs256()), /ALG_NOT_ALLOWED|alg/i);
  await jwks.close();
});

test('dev tokens carry iss, aud, exp and a jti, and are verified by the same rules', async () => {
  const issuer = new DevTokenIssuer({ secret, issuer: 'chorus-dev', audience: 'chorus', ttlSeconds: 60 });
  const result = await issuer.verify(await issuer.issue('carol'));
  assert.ok(result.ok);
  assert.equal(result.token.user, 'carol');
  assert.ok(result.token.tokenId);
  assert.ok(result.token.expiresAt >= now() + 59);
  const other = new DevTokenIssuer({ secret, issuer: 'chorus-dev', audience: 'another', ttlSeconds: 60 });
  assert.equal((await other.verify(await issuer.issue('carol'))).ok, false);
});

// ---------------------------------------------------------------- JWKS

interface JwksServer {
  url: URL;
  keys: JWK[];
  fetches: number;
  close(): Promise<void>;
}

/** A real HTTP server publishing `keys` as a JWKS document, counting fetches. */
async function startJwksServer(options: { hang?: boolean } = {}): Promise<JwksServer> {
  const state: JwksServer = { url: new URL('http://127.0.0.1/'), keys: [], fetches: 0, close: async () => {} };
  const server: Server = createServer((_req, res) => {
    state.fetches++;
    if (options.hang) return; // never answers
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`);
  state.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return state;
}

async function signingKey(alg: 'RS256' | 'ES256', kid: string): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

function signed(alg: 'RS256' | 'ES256', kid: string, key: CryptoKey, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ sub: 'dave', iss: base.issuer, aud: 'chorus', iat: now(), exp: now() + 300, ...claims }).setProtectedHeader({ alg, kid }).sign(key);
}

const servers: JwksServer[] = [];
after(async () => {
  for (const server of servers) await server.close();
});

test('JWKS: RS256 and ES256 tokens verify against keys fetched from the issuer, which are cached', async () => {
  const jwks = await startJwksServer();
  servers.push(jwks);
  const rsa = await signingKey('RS256', 'rsa-1');
  const ec = await signingKey('ES256', 'ec-1');
  jwks.keys = [rsa.jwk, ec.jwk];
  const verifier = new JwtVerifier({ issuer: base.issuer, audience: 'chorus', jwksUrl: jwks.url, maxLifetimeSeconds: 3600 });
  const first = await verifier.verify(await signed('RS256', 'rsa-1', rsa.privateKey));
  assert.ok(first.ok && first.token.user === 'dave');
  assert.ok((await verifier.verify(await signed('ES256', 'ec-1', ec.privateKey))).ok);
  assert.ok((await verifier.verify(await signed('RS256', 'rsa-1', rsa.privateKey))).ok);
  assert.equal(jwks.fetches, 1, 'the key set is fetched once and cached');
  // Claims are checked for JWKS tokens too.
  assert.match(await refusal(verifier, await signed('RS256', 'rsa-1', rsa.privateKey, { aud: 'other' })), /aud/);
  assert.match(await refusal(verifier, await signed('RS256', 'rsa-1', rsa.privateKey, { exp: undefined })), /exp/);
  // A key the issuer does not publish (an attacker's own key under a known kid) is refused.
  const attacker = await signingKey('RS256', 'rsa-1');
  assert.match(await refusal(verifier, await signed('RS256', 'rsa-1', attacker.privateKey)), /signature/i);
});

test('JWKS: after a key rotation the new key is fetched for its unknown kid, and the retired key stops working', async () => {
  const jwks = await startJwksServer();
  servers.push(jwks);
  const old = await signingKey('RS256', 'old');
  jwks.keys = [old.jwk];
  const verifier = new JwtVerifier({ issuer: base.issuer, audience: 'chorus', jwksUrl: jwks.url, jwksCooldownMs: 0, maxLifetimeSeconds: 3600 });
  assert.ok((await verifier.verify(await signed('RS256', 'old', old.privateKey))).ok);

  const next = await signingKey('ES256', 'new');
  jwks.keys = [next.jwk];
  const rotated = await verifier.verify(await signed('ES256', 'new', next.privateKey));
  assert.ok(rotated.ok, `the new key verifies: ${JSON.stringify(rotated)}`);
  assert.equal(jwks.fetches, 2, 'the unknown kid made the verifier fetch the key set again');
  assert.match(await refusal(verifier, await signed('RS256', 'old', old.privateKey)), /JWKS|key/);
});

test('JWKS: an issuer that does not answer fails the verification within the timeout', async () => {
  const jwks = await startJwksServer({ hang: true });
  servers.push(jwks);
  const rsa = await signingKey('RS256', 'k');
  const verifier = new JwtVerifier({ issuer: base.issuer, audience: 'chorus', jwksUrl: jwks.url, jwksTimeoutMs: 300, maxLifetimeSeconds: 3600 });
  const started = Date.now();
  assert.equal(await refusal(verifier, await signed('RS256', 'k', rsa.privateKey)), 'the JWKS endpoint did not answer in time');
  assert.ok(Date.now() - started < 3_000, 'refused soon after the timeout');
});
