import type { FuzzResult } from './fuzz-run.js';

/** The run in a few lines for people, ending with the verdict. */
export function formatFuzzSummary(result: FuzzResult): string {
  const { counts: c, steady: s } = result;
  const lines = [
    `frames sent        ${c.sent} over ${result.options.sockets} sockets in ${(result.elapsedMs / 1000).toFixed(1)} s (seed ${result.options.seed})`,
    `answered           ${c.answered} (${c.errorAnswers} errors), unanswered ${c.unanswered}, stray ${c.strayAnswers}, unknown codes ${c.unknownCodes}`,
    ...(c.unanswered > 0
      ? [`unanswered kinds   ${Object.entries(result.unansweredKinds).map(([k, n]) => `${k} ${n}`).join(', ')}`, ...result.unansweredExamples.map((e) => `  ${e}`)]
      : []),
    `invalid frames     with rid: ${c.missedErrors} not answered with an error; without rid: ${c.unriddedErrorsExpected} sent, ${c.unriddedErrorAnswers} errors`,
    `connection fails   ${c.closesExpected} frames that fail a connection, ${c.closesSeen} closes (${c.wrongCloseCodes} wrong code), ${c.unexpectedCloses} unexpected closes, ${c.reconnectRefusals} reconnects refused (4429)`,
    `gateway            ${result.gatewayAlive ? 'alive' : 'DEAD'}, RSS ${result.rssStartMb.toFixed(0)} -> max ${result.rssMaxMb.toFixed(0)} -> ${result.rssEndMb.toFixed(0)} MiB (limit ${result.options.maxRssMb})`,
    `well-behaved user  ${s.sent} sent, ${s.acked} acked, ${s.delivered} delivered in order (${s.orderViolations} violations, ${s.errors} errors), ack p50 ${s.p50AckMs} ms, p99 ${s.p99AckMs} ms, max ${s.maxAckMs} ms (message ${s.slowestAt})`,
    result.failures.length === 0 ? 'verdict            PASS' : `verdict            FAIL\n${result.failures.map((f) => `  - ${f}`).join('\n')}`,
  ];
  return lines.join('\n');
}
