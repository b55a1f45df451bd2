import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startPlatform } from '@chorus/local/platform';
import { binaries } from '@chorus/local/servers/binaries';
import { waitUntil } from './support/wait-until.js';

// A gateway drains under a real Chromium page: the page gets the reconnect frame, moves to the
// other gateway behind the one address after the given delay, resumes the room, and misses nothing
// that was said meanwhile, with nothing twice.

const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let platform: Awaited<ReturnType<typeof startPlatform>> | undefined;
let browser: Browser | undefined;
let dataDir = '';

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chorus-browser-drain-'));
  platform = await startPlatform({ gateways: 2, messageServices: 1, dataDir, sharedPort: 0, serviceEnv: { DRAIN_WINDOW_MS: '1500', DRAIN_TIMEOUT_MS: '8000' } });
  browser = await chromium.launch({ executablePath: binaries.chromium(), args: chromiumArgs });
});

after(async () => {
  await browser?.close();
  await platform?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function openChat(url: string, name: string): Promise<{ page: Page; received: string[]; sockets: string[]; close(): Promise<void> }> {
  const context = await browser!.newContext();
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const received: string[] = [];
  const sockets: string[] = [];
  page.on('websocket', (ws) => {
    sockets.push(ws.url());
    ws.on('framereceived', (frame) => received.push(String(frame.payload)));
  });
  await page.goto(url);
  await page.getByTestId('login-name').fill(name);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('conn-state').filter({ hasText: /^online$/ }).waitFor();
  return { page, received, sockets, close: () => context.close() };
}

async function connectionsOf(metricsUrl: string): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  return Number(/^chorus_gateway_connections (\d+)/m.exec(text)?.[1] ?? NaN);
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('composer').press('Enter');
}

test('the chat page follows a draining gateway\'s reconnect frame to the other gateway and misses nothing', { timeout: 120_000 }, async () => {
  assert.ok(platform);
  const alice = await openChat(platform.url, 'alice');
  try {
    const room = `drain-${process.pid}`;
    await alice.page.getByTestId('room-input').fill(room);
    await alice.page.getByTestId('room-create').click();
    await alice.page.getByTestId('room-title').filter({ hasText: room }).waitFor();
    const counts = await Promise.all(platform.gatewayMetricsUrls.map(connectionsOf));
    const served = counts.indexOf(1);
    assert.ok(served >= 0 && counts[1 - served] === 0, `alice is on one gateway: ${counts}`);
    const other = 1 - served;
    // Bob talks to the other gateway directly, so his page stays where it is.
    const bob = await openChat(platform.gatewayUrls[other]!, 'bob');
    try {
      await bob.page.getByTestId('room-input').fill(room);
      await bob.page.getByTestId('room-join').click();
      await bob.page.getByTestId('room-title').filter({ hasText: room }).waitFor();

      const stopping = platform.control(`gateway-${served + 1}`).stop(15_000);
      await waitUntil(() => alice.received.some((f) => JSON.parse(f).type === 'reconnect'), 10_000, 'the reconnect frame');
      const frame = JSON.parse(alice.received.find((f) => JSON.parse(f).type === 'reconnect')!);
      assert.equal(frame.reason, 'draining');
      assert.ok(frame.afterMs >= 0 && frame.afterMs <= 1500, `a delay within the window: ${frame.afterMs}`);
      // Said while alice moves: she must get each of these once, from before or after the move.
      for (let i = 0; i < 5; i++) await say(bob.page, `during the move ${i}`);
      await waitUntil(() => alice.sockets.length >= 2, 15_000, 'a second socket');
      await alice.page.getByTestId('conn-state').filter({ hasText: /^online$/ }).waitFor();
      await stopping;
      assert.equal(await connectionsOf(platform.gatewayMetricsUrls[other]!), 2, 'both pages are on the gateway left');
      await say(alice.page, 'after the move');
      await bob.page.getByTestId('message').filter({ hasText: 'after the move' }).waitFor();
      for (let i = 0; i < 5; i++) {
        const shown = alice.page.getByTestId('message').filter({ hasText: `during the move ${i}` });
        await shown.waitFor();
        assert.equal(await shown.count(), 1, `"during the move ${i}" once`);
      }
      assert.equal(await alice.page.locator('[data-testid="message"][data-status="pending"]').count(), 0, 'nothing left unconfirmed');
    } finally {
      await bob.close();
    }
  } finally {
    await alice.close();
  }
});
