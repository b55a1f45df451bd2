import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startPlatform } from '@chorus/local/platform';
import { binaries, repoRoot } from '@chorus/local/servers/binaries';

// Two people on two different gateways chat through the real platform in real headless Chromium:
// the page, login, WebSocket protocol, cross-gateway fan-out and presence all have to work.

const screenshotDir = join(repoRoot, 'test-results');
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

let platform: Awaited<ReturnType<typeof startPlatform>> | undefined;
let browser: Browser | undefined;
let proxy: CuttableProxy | undefined;
let dataDir = '';
const tokenTtlSeconds = 8;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chorus-browser-chat-'));
  await mkdir(screenshotDir, { recursive: true });
  // Dev tokens of 8 s and no clock tolerance: every page must refresh its token to stay connected.
  platform = await startPlatform({ gateways: 2, messageServices: 1, dataDir, serviceEnv: { DEV_TOKEN_TTL_SECONDS: String(tokenTtlSeconds), AUTH_CLOCK_TOLERANCE_SECONDS: '0' } });
  browser = await chromium.launch({ executablePath: binaries.chromium(), args: chromiumArgs });
});

after(async () => {
  await browser?.close();
  await proxy?.close();
  await platform?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** What the page's WebSockets did: their URLs, the frames types both ways, and closes. */
interface SocketLog {
  urls: string[];
  sent: string[];
  received: string[];
  closes: number;
}

/** A fresh browser profile (own sessionStorage) with the chat page of one gateway open. */
async function openChat(baseUrl: string): Promise<{ context: BrowserContext; page: Page; pageErrors: string[]; consoleErrors: string[]; sockets: SocketLog }> {
  const context = await browser!.newContext({ viewport: { width: 1100, height: 700 } });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const pageErrors: string[] = []; // uncaught script errors
  const consoleErrors: string[] = []; // also failed loads and sockets (and CSP violations), expected while a network is cut
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  const sockets: SocketLog = { urls: [], sent: [], received: [], closes: 0 };
  const typeOf = (payload: string | Buffer) => (JSON.parse(String(payload)) as { type: string }).type;
  page.on('websocket', (ws) => {
    sockets.urls.push(ws.url());
    ws.on('framesent', (frame) => sockets.sent.push(typeOf(frame.payload)));
    ws.on('framereceived', (frame) => sockets.received.push(typeOf(frame.payload)));
    ws.on('close', () => sockets.closes++);
  });
  await page.goto(baseUrl);
  return { context, page, pageErrors, consoleErrors, sockets };
}

/** A TCP pass-through to a gateway whose connections the test can cut, like a network drop. */
interface CuttableProxy {
  url: string;
  /** Drops every open connection and refuses new ones until restore(). */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

async function startCuttableProxy(targetUrl: string): Promise<CuttableProxy> {
  const target = new URL(targetUrl);
  const open = new Set<Socket>();
  let down = false;
  const server: Server = createServer((client) => {
    if (down) return void client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
    };
    open.add(client);
    for (const socket of [client, upstream]) socket.on('close', end).on('error', end);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return {
    url: `http://127.0.0.1:${address.port}`,
    cut() {
      down = true;
      for (const socket of open) socket.destroy();
    },
    restore() {
      down = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())).then(() => undefined),
  };
}

async function logIn(page: Page, name: string): Promise<void> {
  await page.getByTestId('login-name').fill(name);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('conn-state').filter({ hasText: /^online$/ }).waitFor();
  assert.equal(await page.getByTestId('me').textContent(), name);
}

/** Creates or joins a room through the page and waits until the page shows it. */
async function enterRoom(page: Page, room: string, how: 'create' | 'join'): Promise<void> {
  await page.getByTestId('room-input').fill(room);
  await page.getByTestId(`room-${how}`).click();
  await page.getByTestId('room-title').filter({ hasText: room }).waitFor();
}

async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(screenshotDir, `browser-chat-${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  return path;
}

test('two users on two gateways chat in headless Chromium', { timeout: 90_000 }, async () => {
  assert.ok(platform && platform.gatewayUrls.length >= 2, 'the platform runs two gateways');
  const [urlA, urlB] = platform.gatewayUrls as [string, string];
  const alice = await openChat(urlA);
  const bob = await openChat(urlB);
  const room = `lobby-${process.pid}`;
  const text = 'Hello Bob <b>not bold</b> & welcome';

  try {
    await logIn(alice.page, 'alice');
    await enterRoom(alice.page, room, 'create');

    await logIn(bob.page, 'bob');
    await enterRoom(bob.page, room, 'join');

    // Alice sends with Enter; Bob, on the other gateway, receives it live.
    await alice.page.getByTestId('composer').fill(text);
    await alice.page.getByTestId('composer').press('Enter');
    const received = bob.page.getByTestId('message').filter({ hasText: 'Hello Bob' });
    await received.waitFor();
    assert.equal(await received.getByTestId('message-sender').textContent(), 'alice');
    assert.equal(await received.getByTestId('message-text').textContent(), text);
    assert.equal(await received.locator('b').count(), 0, 'user text is shown as text, never parsed as HTML');

    // Alice's own copy turns from pending to confirmed once the gateway acks it with its position.
    const own = alice.page.locator('[data-testid="message"][data-status="confirmed"]').filter({ hasText: 'Hello Bob' });
    await own.waitFor();
    assert.ok(Number(await own.getAttribute('data-pos')) >= 1, 'the confirmed message carries its room position');
    assert.equal(await alice.page.locator('[data-testid="message"][data-status="pending"]').count(), 0);

    // And back the other way.
    await bob.page.getByTestId('composer').fill('Hi Alice!');
    await bob.page.getByTestId('send').click();
    await alice.page.getByTestId('message').filter({ hasText: 'Hi Alice!' }).waitFor();

    // Presence spans gateways: each sees the other online.
    await bob.page.getByTestId('online-user').filter({ hasText: /^alice$/ }).waitFor();
    await alice.page.getByTestId('online-user').filter({ hasText: /^bob$/ }).waitFor();

    // A bad action surfaces the server's error code and message.
    await bob.page.getByTestId('room-input').fill(`no-such-room-${process.pid}`);
    await bob.page.getByTestId('room-join').click();
    const error = bob.page.locator('[data-testid="error"][data-code="room_not_found"]');
    await error.waitFor();
    assert.match((await error.textContent()) ?? '', /room_not_found/);

    const shots = [await screenshot(alice.page, 'alice'), await screenshot(bob.page, 'bob')];
    for (const path of shots) {
      const png = await readFile(path);
      assert.ok(png.length > 1000, `${path} is a real screenshot (${png.length} bytes)`);
      assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG', `${path} is a PNG`);
    }
    const errors = [...alice.pageErrors, ...bob.pageErrors, ...alice.consoleErrors, ...bob.consoleErrors];
    assert.deepEqual(errors, [], 'no script or console errors in either page');
  } catch (error) {
    await screenshot(alice.page, 'failure-alice').catch(() => undefined);
    await screenshot(bob.page, 'failure-bob').catch(() => undefined);
    throw error;
  } finally {
    await alice.context.close();
    await bob.context.close();
  }
});

test('a browser that loses its connection resumes the room without gaps or duplicates', { timeout: 60_000 }, async () => {
  assert.ok(platform);
  proxy = await startCuttableProxy(platform.gatewayUrls[1]!);
  const alice = await openChat(platform.gatewayUrls[0]!);
  const bob = await openChat(proxy.url);
  const room = `resume-${process.pid}`;
  const say = async (page: Page, text: string) => {
    await page.getByTestId('composer').fill(text);
    await page.getByTestId('composer').press('Enter');
  };

  try {
    await logIn(alice.page, 'alice');
    await enterRoom(alice.page, room, 'create');
    await logIn(bob.page, 'bob');
    await enterRoom(bob.page, room, 'join');
    await say(alice.page, 'before the drop');
    await bob.page.getByTestId('message').filter({ hasText: 'before the drop' }).waitFor();

    // Bob's network drops: the page says so, and what he types waits, queued.
    proxy.cut();
    await bob.page.getByTestId('conn-state').filter({ hasText: 'reconnecting' }).waitFor();
    await bob.page.getByTestId('banner').waitFor();
    await say(alice.page, 'missed one');
    await say(alice.page, 'missed two');
    await alice.page.locator('[data-testid="message"][data-status="confirmed"]').filter({ hasText: 'missed two' }).waitFor();
    await say(bob.page, 'typed while offline');
    await bob.page.locator('[data-testid="message"][data-status="queued"]').filter({ hasText: 'typed while offline' }).waitFor();
    await screenshot(bob.page, 'reconnecting');

    // Back online: re-join with `after` brings the missed messages; the pending one goes out as a resend.
    proxy.restore();
    await bob.page.getByTestId('conn-state').filter({ hasText: /^online$/ }).waitFor();
    await bob.page.locator('[data-testid="message"][data-status="confirmed"]').filter({ hasText: 'typed while offline' }).waitFor();
    await alice.page.getByTestId('message').filter({ hasText: 'typed while offline' }).waitFor();
    await bob.page.getByTestId('message').filter({ hasText: 'missed two' }).waitFor();
    const seen = await bob.page
      .getByTestId('message')
      .evaluateAll((nodes) => nodes.map((node) => [Number(node.getAttribute('data-pos')), node.querySelector('[data-testid="message-text"]')?.textContent]));
    assert.deepEqual(
      seen.map(([, text]) => text),
      ['before the drop', 'missed one', 'missed two', 'typed while offline'],
    );
    const positions = seen.map(([pos]) => pos as number);
    assert.deepEqual([...positions].sort((a, b) => a - b), positions, 'in room order');
    assert.equal(new Set(positions).size, 4, 'each once');
    assert.deepEqual([...alice.pageErrors, ...bob.pageErrors], [], 'no script errors in either page');
  } catch (error) {
    await screenshot(bob.page, 'failure-resume-bob').catch(() => undefined);
    throw error;
  } finally {
    await alice.context.close();
    await bob.context.close();
  }
});

test('the page says it is in dev mode, keeps the token out of the URL, and refreshes its token before it expires', { timeout: 60_000 }, async () => {
  assert.ok(platform);
  const carol = await openChat(platform.gatewayUrls[0]!);
  try {
    await carol.page.getByTestId('dev-mode-note').waitFor();
    assert.match((await carol.page.getByTestId('dev-mode-note').textContent()) ?? '', /Dev mode: anyone can log in/);
    await logIn(carol.page, 'carol');
    await enterRoom(carol.page, `refresh-${process.pid}`, 'create');
    // Two refreshes take the socket past two token lifetimes without closing it (4001 otherwise).
    const deadline = Date.now() + 4 * tokenTtlSeconds * 1000;
    while (carol.sockets.received.filter((t) => t === 'refreshed').length < 2) {
      assert.ok(Date.now() < deadline, `two refreshed frames within ${4 * tokenTtlSeconds} s (got ${carol.sockets.received.join(',')})`);
      await carol.page.waitForTimeout(100);
    }
    assert.equal(carol.sockets.closes, 0, 'the socket stayed open across its first token\'s expiry');
    assert.equal(carol.sockets.urls.length, 1);
    for (const url of carol.sockets.urls) assert.equal(new URL(url).search, '', `no token in the URL: ${url}`);
    await carol.page.getByTestId('composer').fill('still connected');
    await carol.page.getByTestId('composer').press('Enter');
    await carol.page.locator('[data-testid="message"][data-status="confirmed"]').filter({ hasText: 'still connected' }).waitFor();
    assert.deepEqual([...carol.pageErrors, ...carol.consoleErrors], [], 'no script, console or CSP errors');
  } catch (error) {
    await screenshot(carol.page, 'failure-refresh').catch(() => undefined);
    throw error;
  } finally {
    await carol.context.close();
  }
});

test('two admins in two browser pages: the second sees the room being edited by the first, read-only, until it is released', { timeout: 90_000 }, async () => {
  assert.ok(platform);
  const [urlA, urlB] = platform.gatewayUrls as [string, string];
  const alice = await openChat(urlA);
  const bob = await openChat(urlB);
  const room = `admins-${process.pid}`;
  try {
    await logIn(alice.page, 'alice');
    // A private room: shown with a lock in the list.
    await alice.page.getByTestId('room-private').check();
    await enterRoom(alice.page, room, 'create');
    await alice.page.locator(`[data-testid="room-item"][data-room="${room}"][data-private="true"]`).waitFor();

    // Alice edits: takes the lease, invites bob, and (after he joins) promotes him to admin.
    await alice.page.getByTestId('room-admin').click();
    await alice.page.getByTestId('lease-state').filter({ hasText: 'Not being edited' }).waitFor();
    await alice.page.getByTestId('admin-edit').click();
    await alice.page.locator('[data-testid="lease-state"][data-mode="editing"]').waitFor();
    // Typing goes on across the panel's periodic redraw: the focus and the typed text survive it.
    const inviteBox = alice.page.getByTestId('admin-invite-user');
    await inviteBox.click();
    await alice.page.keyboard.type('bo');
    await inviteBox.evaluate((node) => node.setAttribute('data-before-redraw', ''));
    await alice.page.locator('[data-testid="admin-invite-user"]:not([data-before-redraw])').waitFor({ timeout: 20_000 });
    await alice.page.keyboard.type('b');
    assert.equal(await inviteBox.inputValue(), 'bob', 'the keystroke after the redraw reached the input');
    await alice.page.getByTestId('admin-invite').click();
    await alice.page.getByText('Invited: bob').waitFor();

    await logIn(bob.page, 'bob');
    const invite = bob.page.locator(`[data-testid="room-item"][data-room="${room}"]`);
    await invite.filter({ hasText: 'invited' }).waitFor();
    await invite.click();
    await bob.page.getByTestId('room-title').filter({ hasText: room }).waitFor();

    const bobRow = alice.page.locator('[data-testid="admin-member"][data-user="bob"]');
    await bobRow.waitFor();
    await bobRow.getByTestId('admin-promote').click();
    await alice.page.locator('[data-testid="admin-member"][data-user="bob"][data-role="admin"]').waitFor();

    // Bob, now an admin, opens the panel while alice still holds the lease: read-only, with her name.
    await bob.page.getByTestId('room-admin').click();
    const bobLease = bob.page.locator('[data-testid="lease-state"][data-mode="read-only"]');
    await bobLease.waitFor();
    assert.match((await bobLease.textContent()) ?? '', /Being edited by alice/);
    assert.equal(await bob.page.getByTestId('admin-edit').isDisabled(), true);
    assert.equal(await bob.page.getByTestId('admin-topic').isDisabled(), true);
    assert.equal(await bob.page.getByTestId('admin-save').isDisabled(), true);
    assert.equal(await bob.page.getByTestId('admin-remove').count(), 0, 'no member actions in the read-only view');
    await screenshot(bob.page, 'admin-read-only');

    // Alice is done: bob's panel sees the lease go and he can edit.
    await alice.page.getByTestId('admin-done').click();
    await bob.page.getByTestId('lease-state').filter({ hasText: 'Not being edited' }).waitFor();
    await bob.page.getByTestId('admin-edit').click();
    await bob.page.locator('[data-testid="lease-state"][data-mode="editing"]').waitFor();
    await bob.page.getByTestId('admin-topic').fill('Quarterly plans');
    await bob.page.getByTestId('admin-save').click();
    await bob.page.locator('[data-testid="error"][data-code="saved"]').waitFor();
    await bob.page.getByTestId('room-topic').filter({ hasText: 'Quarterly plans' }).waitFor();
    await alice.page.getByTestId('lease-state').filter({ hasText: 'Being edited by bob' }).waitFor();
    assert.deepEqual([...alice.pageErrors, ...bob.pageErrors], [], 'no script errors in either page');
  } catch (error) {
    await screenshot(alice.page, 'failure-admin-alice').catch(() => undefined);
    await screenshot(bob.page, 'failure-admin-bob').catch(() => undefined);
    throw error;
  } finally {
    await alice.context.close();
    await bob.context.close();
  }
});
