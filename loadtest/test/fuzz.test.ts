import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz } from '../src/fuzz/fuzz-run.js';
import { formatFuzzSummary } from '../src/fuzz/fuzz-summary.js';

// The short version of `npm run fuzz`: the same checks against a real gateway, a few thousand frames.
test('a gateway fuzzed with 3,000 generated frames lives, answers every frame, stays bounded and serves a well-behaved user', { timeout: 180_000 }, async () => {
  const result = await runFuzz({
    frames: 3_000,
    sockets: 20,
    socketsPerUser: 4,
    rate: 40,
    window: 16,
    seed: 7,
    maxRssMb: 256,
    maxSteadyAckMs: 5_000,
    drainTimeoutMs: 15_000,
    timeoutMs: 120_000,
  });
  assert.deepEqual(result.failures, [], formatFuzzSummary(result));
  assert.equal(result.counts.sent, 3_000);
  assert.ok(result.counts.closesExpected > 0, 'the run included frames that fail a connection');
  assert.ok(result.counts.unriddedErrorsExpected > 0 && result.counts.errorAnswers > 1_000, 'most frames were invalid');
  assert.ok(result.steady.delivered > 0);
});
