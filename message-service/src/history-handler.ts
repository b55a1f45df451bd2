import type { HistoryRequest, HistoryResult } from '@chorus/shared/bus/payloads';
import type { Collections } from './collections.js';
import { pageFromRows, planHistoryQuery } from './history-query.js';
import type { QueryGate } from './query-gate.js';

/** Answers `chorus.rpc.history`: one page of a room's messages. Membership is the gateway's check. */
export class HistoryHandler {
  constructor(
    private readonly collections: Collections,
    private readonly gate: QueryGate,
  ) {}

  handle(request: HistoryRequest): Promise<HistoryResult> {
    const key = `history/${request.room}/${request.after ?? ''}/${request.before ?? ''}/${request.limit}`;
    return this.gate.run(key, () => this.query(request));
  }

  private async query(request: HistoryRequest): Promise<HistoryResult> {
    const plan = planHistoryQuery(request);
    const rows = await this.collections.messages
      .find(plan.filter, { projection: { _id: 1, room: 1, seq: 1, sender: 1, text: 1, ts: 1 } })
      .sort(plan.sort)
      .limit(plan.limit)
      .toArray();
    const page = pageFromRows(rows, request, plan);
    return {
      messages: page.rows.map((d) => ({ room: d.room, seq: d.seq, id: d._id, sender: d.sender, text: d.text, ts: d.ts })),
      hasMore: page.hasMore,
    };
  }
}
