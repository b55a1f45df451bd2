import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The gateway's identity settings are checked before it connects anywhere: a bad combination
// stops it at start with a line naming the variable.
const mainJs = fileURLToPath(new URL('../src/main.js', import.meta.url));
const secret = 's'.repeat(32);

async function startFails(env: Record<string, string>): Promise<string> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AUTH_') && k !== 'CHORUS_TOKEN_SECRET' && k !== 'ALLOWED_ORIGINS'));
  // Unroutable NATS: should validation pass by mistake, the start fails later and the test sees the wrong message.
  const child = spawn(process.execPath, [mainJs], { env: { ...clean, NATS_URL: 'nats://127.0.0.1:9', PORT: '0', METRICS_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.notEqual(code, 0, `the gateway must not start: ${output}`);
  assert.match(output, /invalid environment/, output);
  return output;
}

test('jwt mode (the default) needs a key source, an issuer and an audience', async () => {
  const output = await startFails({});
  assert.match(output, /AUTH_MODE: AUTH_MODE=jwt needs AUTH_HS256_SECRET, AUTH_JWKS_URL, or both/);
  assert.match(output, /AUTH_ISSUER/);
  assert.match(output, /AUTH_AUDIENCE/);
});

test('bad values and combinations are named', async () => {
  assert.match(await startFails({ AUTH_MODE: 'dev' }), /AUTH_HS256_SECRET: AUTH_MODE=dev signs its tokens/);
  assert.match(await startFails({ AUTH_MODE: 'dev', AUTH_HS256_SECRET: secret, AUTH_JWKS_URL: 'https://idp.example/jwks' }), /AUTH_JWKS_URL: applies only to AUTH_MODE=jwt/);
  assert.match(await startFails({ AUTH_HS256_SECRET: 'short', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' }), /at least 32 characters/);
  assert.match(await startFails({ AUTH_JWKS_URL: 'http://idp.example/jwks', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' }), /AUTH_JWKS_URL: must be https/);
  assert.match(await startFails({ AUTH_MODE: 'dev', AUTH_HS256_SECRET: secret, ALLOWED_ORIGINS: 'https://ok.example,https://bad.example/path' }), /https:\/\/bad.example\/path is not an origin/);
  assert.match(await startFails({ AUTH_MODE: 'dev', AUTH_HS256_SECRET: secret, CHORUS_TOKEN_SECRET: secret }), /CHORUS_TOKEN_SECRET: renamed: set AUTH_HS256_SECRET/);
  assert.match(await startFails({ AUTH_MODE: 'magic' }), /AUTH_MODE/);
});
