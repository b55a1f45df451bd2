import type { Filter, Sort } from 'mongodb';
import type { HistoryRequest } from '@chorus/shared/bus/payloads';
import type { MessageDoc } from './collections.js';

/** How a history request maps onto the (room, seq) index. */
export interface HistoryQueryPlan {
  filter: Filter<MessageDoc>;
  sort: Sort;
  /** One more than asked, to learn whether more exist in that direction. */
  limit: number;
  /** Results come newest first and must be reversed into ascending seq order. */
  reverse: boolean;
}

/**
 * - `after: n`: the oldest `limit` messages with seq > n (reading forward; hasMore = newer exist).
 * - `before: n`: the newest `limit` messages with seq < n (reading backward; hasMore = older exist).
 * - neither: the newest `limit` messages (hasMore = older exist).
 * - both: the range after < seq < before, read forward from `after`.
 * Replies are always in ascending seq order.
 */
export function planHistoryQuery(request: HistoryRequest): HistoryQueryPlan {
  const seq: { $gt?: number; $lt?: number } = {};
  if (request.after !== undefined) seq.$gt = request.after;
  if (request.before !== undefined) seq.$lt = request.before;
  const forward = request.after !== undefined;
  return {
    filter: Object.keys(seq).length > 0 ? { room: request.room, seq } : { room: request.room },
    sort: forward ? { seq: 1 } : { seq: -1 },
    limit: request.limit + 1,
    reverse: !forward,
  };
}

/** Cuts the extra row off and puts the page in ascending order. */
export function pageFromRows<T>(rows: T[], request: HistoryRequest, plan: HistoryQueryPlan): { rows: T[]; hasMore: boolean } {
  const hasMore = rows.length > request.limit;
  const page = hasMore ? rows.slice(0, request.limit) : rows;
  if (plan.reverse) page.reverse();
  return { rows: page, hasMore };
}
