import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@chorus/shared/logging/logger';
import { ManagedProcess } from '../src/servers/managed-process.js';
import { Supervisor } from '../src/servers/supervisor.js';
import { startPlatform } from '../src/platform.js';

/** A logger whose lines the test reads back. */
function capturedLogger() {
  const lines: { msg: string; process?: string; restartInMs?: number; signal?: string }[] = [];
  const log = createLogger('test', {}, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const idle = (name: string) =>
  new ManagedProcess({ name, command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], ready: async () => {} });

test('a killed process is restarted with a log line; one stopped on request is left alone', async () => {
  const { log, lines } = capturedLogger();
  const supervisor = new Supervisor(log, { initialDelayMs: 50, maxDelayMs: 1_000, resetAfterMs: 60_000 });
  const child = idle('worker');
  await child.start();
  supervisor.watch(child);
  const firstPid = child.pid!;
  process.kill(firstPid, 'SIGKILL');
  await eventually(() => child.running && child.pid !== firstPid, 'a new worker process');
  const exited = lines.find((l) => l.msg === 'worker exited; restarting in 50 ms');
  assert.equal(exited?.signal, 'SIGKILL');
  await eventually(() => lines.some((l) => l.msg === 'worker restarted'), 'the restart log line');

  const before = lines.length;
  await child.stop();
  supervisor.stop();
  assert.equal(child.running, false);
  assert.deepEqual(lines.slice(before), [], 'a requested stop is not a crash');
});

test('a crash loop backs off exponentially up to the maximum; stop() ends the restarts', async () => {
  const { log, lines } = capturedLogger();
  const supervisor = new Supervisor(log, { initialDelayMs: 20, maxDelayMs: 80, resetAfterMs: 60_000 });
  // Ready at once, then dies: every run is a crash soon after start.
  const crashing = new ManagedProcess({ name: 'crasher', command: process.execPath, args: ['-e', 'setTimeout(() => process.exit(3), 30)'], ready: async () => {} });
  await crashing.start();
  supervisor.watch(crashing);
  const delays = () => lines.filter((l) => l.process === 'crasher' && l.restartInMs !== undefined).map((l) => l.restartInMs);
  await eventually(() => delays().length >= 5, 'five crashes');
  supervisor.stop();
  assert.deepEqual(delays().slice(0, 5), [20, 40, 80, 80, 80]);
  await crashing.whenExited();
  const settled = lines.length;
  // After stop() a pending restart never fires: the process stays down.
  await eventually(() => !crashing.running, 'the last run has ended');
  await new Promise((r) => setTimeout(r, 200)); // longer than the largest backoff: a restart would have happened
  assert.equal(crashing.running, false);
  assert.equal(lines.slice(settled).some((l) => l.msg === 'crasher restarted'), false);
});

test('npm start supervises: a gateway killed with SIGKILL serves again by itself', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'chorus-supervised-'));
  const { log, lines } = capturedLogger();
  const platform = await startPlatform({ dataDir, gateways: 1, messageServices: 1, supervise: { initialDelayMs: 100, maxDelayMs: 1_000, resetAfterMs: 60_000 }, logger: log });
  try {
    const gateway = platform.processes().find((p) => p.name === 'gateway-1')!;
    process.kill(gateway.pid!, 'SIGKILL');
    await eventually(async () => {
      const now = platform.processes().find((p) => p.name === 'gateway-1')!;
      if (now.pid === gateway.pid) return false;
      return (await fetch(`${platform.gatewayUrls[0]}/readyz`).catch(() => undefined))?.ok;
    }, 'gateway-1 ready again under a new pid', 30_000);
    assert.ok(lines.some((l) => l.msg === 'gateway-1 exited; restarting in 100 ms'));
    await eventually(() => lines.some((l) => l.msg === 'gateway-1 restarted'), 'the restart log line');
  } finally {
    await platform.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
