import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pageFromRows, planHistoryQuery } from '../src/history-query.js';

test('after: n reads forward from n, oldest first', () => {
  const request = { room: 'r', after: 10, limit: 3 };
  const plan = planHistoryQuery(request);
  assert.deepEqual(plan.filter, { room: 'r', seq: { $gt: 10 } });
  assert.deepEqual(plan.sort, { seq: 1 });
  assert.equal(plan.limit, 4);
  assert.deepEqual(pageFromRows([11, 12, 13, 14], request, plan), { rows: [11, 12, 13], hasMore: true });
  assert.deepEqual(pageFromRows([11, 12], request, plan), { rows: [11, 12], hasMore: false });
});

test('before: n reads the newest below n and returns them ascending', () => {
  const request = { room: 'r', before: 10, limit: 3 };
  const plan = planHistoryQuery(request);
  assert.deepEqual(plan.filter, { room: 'r', seq: { $lt: 10 } });
  assert.deepEqual(plan.sort, { seq: -1 });
  assert.deepEqual(pageFromRows([9, 8, 7, 6], request, plan), { rows: [7, 8, 9], hasMore: true });
  assert.deepEqual(pageFromRows([2, 1], request, plan), { rows: [1, 2], hasMore: false });
});

test('neither: the newest messages, ascending', () => {
  const request = { room: 'r', limit: 2 };
  const plan = planHistoryQuery(request);
  assert.deepEqual(plan.filter, { room: 'r' });
  assert.deepEqual(plan.sort, { seq: -1 });
  assert.deepEqual(pageFromRows([5, 4, 3], request, plan), { rows: [4, 5], hasMore: true });
});

test('both bounds: the range between them, read forward', () => {
  const plan = planHistoryQuery({ room: 'r', after: 2, before: 9, limit: 5 });
  assert.deepEqual(plan.filter, { room: 'r', seq: { $gt: 2, $lt: 9 } });
  assert.deepEqual(plan.sort, { seq: 1 });
  assert.equal(plan.reverse, false);
});

test('after: 0 is a bound, not "absent"', () => {
  const plan = planHistoryQuery({ room: 'r', after: 0, limit: 5 });
  assert.deepEqual(plan.filter, { room: 'r', seq: { $gt: 0 } });
  assert.deepEqual(plan.sort, { seq: 1 });
});
