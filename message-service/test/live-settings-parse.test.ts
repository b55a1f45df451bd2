import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBatchSettings } from '../src/pipeline/live-settings.js';

test('valid batching JSON is accepted', () => {
  assert.deepEqual(parseBatchSettings('{"batchSize":200,"flushIntervalMs":20,"source":"autopilot"}'), {
    ok: true,
    settings: { batchSize: 200, flushIntervalMs: 20, source: 'autopilot' },
  });
});

test('invalid values are rejected with a reason', () => {
  const notJson = parseBatchSettings('batchSize=5');
  assert.deepEqual(notJson, { ok: false, error: 'not JSON' });
  const zero = parseBatchSettings('{"batchSize":0,"flushIntervalMs":20}');
  assert.equal(zero.ok, false);
  assert.match(!zero.ok ? zero.error : '', /batchSize/);
  const extra = parseBatchSettings('{"batchSize":5,"flushIntervalMs":20,"surprise":1}');
  assert.equal(extra.ok, false);
});
