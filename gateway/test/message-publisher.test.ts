import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredMessage } from '@chorus/shared/bus/payloads';
import type { Published, RoomBroker } from '../src/ordering/room-broker.js';
import { MessagePublisher } from '../src/publish/message-publisher.js';

const message: StoredMessage = { id: 'm-1', room: 'r', sender: 'ann', text: 'hi', ts: 1, clientMsgId: 'c-1' };
const noLookup = { lookup: async () => ({ pos: null }) };

/** A broker that answers each attempt with the next outcome; 'silent' waits out the attempt's timeout. */
function scriptedBroker(outcomes: ('silent' | 'refused' | Published)[]) {
  const attempts: { at: number; timeoutMs: number | undefined }[] = [];
  const broker: Pick<RoomBroker, 'publish'> = {
    publish: (_message, _traceparent, timeoutMs) => {
      attempts.push({ at: Date.now(), timeoutMs });
      const outcome = outcomes[attempts.length - 1] ?? 'silent';
      if (outcome === 'refused') return Promise.reject(new Error('no responders'));
      if (outcome === 'silent') return new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs));
      return Promise.resolve(outcome);
    },
  };
  return { broker, attempts };
}

test('a stream that never answers fails the send once, at the deadline, not once per attempt', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  try {
    const { broker, attempts } = scriptedBroker(['silent', 'silent', 'silent']);
    const publisher = new MessagePublisher(broker, noLookup, 3, 5_000);
    const outcome = publisher.publish(message, false).then(() => 'stored', (error: Error) => error.message);
    mock.timers.tick(5_000);
    assert.equal(await outcome, 'no answer within 5000 ms');
    assert.deepEqual(attempts, [{ at: 0, timeoutMs: 5_000 }], 'no second attempt after the whole deadline was spent');
  } finally {
    mock.timers.reset();
  }
});

test('fast refusals are retried with what is left of the deadline', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  try {
    const { broker, attempts } = scriptedBroker(['refused', 'refused', { pos: 7, duplicate: false }]);
    const publisher = new MessagePublisher(broker, noLookup, 3, 5_000);
    const outcome = publisher.publish(message, false);
    for (const backoff of [100, 200]) {
      for (let i = 0; i < 10; i++) await Promise.resolve();
      mock.timers.tick(backoff);
    }
    assert.deepEqual(await outcome, { pos: 7, duplicate: false });
    assert.deepEqual(attempts, [
      { at: 0, timeoutMs: 5_000 },
      { at: 100, timeoutMs: 4_900 },
      { at: 300, timeoutMs: 4_700 },
    ]);
  } finally {
    mock.timers.reset();
  }
});
