import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { OperationFailedError } from '../exit-codes';
import { httpJson } from '../http-json';
import type { OpsContext } from '../ops-context';
import { configOf } from '../ops-context';
import { formatFields, printResult } from '../output';
import type { TraceSummary, ZipkinSpan } from '../zipkin-trace';
import { summarizeTrace } from '../zipkin-trace';

function hoursArgument(value: string): number {
  const hours = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || hours <= 0)
    throw new InvalidArgumentError('a number of hours.');
  return hours;
}

export function formatTraces(requestId: string, traces: readonly TraceSummary[]): string {
  return traces
    .map((t) =>
      [
        formatFields({
          'request id': requestId,
          trace: t.traceId,
          started: t.startedAt,
          duration: `${t.durationMs} ms`,
          spans: t.spanCount,
          services: t.services.join(', '),
          zipkin: t.uiUrl,
        }),
        ...t.tree.map((line) => `  ${line}`),
      ].join('\n'),
    )
    .join('\n\n');
}

/** `trace <request-id>`: the traces Zipkin holds whose spans carry `request.id=<id>`. */
export function registerTraceCommand(program: Command, context: OpsContext): void {
  program
    .command('trace')
    .description('find the trace of a request by its request id (the x-request-id a client got)')
    .argument('<request-id>', 'the request id')
    .option('--lookback <hours>', 'how far back to search', hoursArgument, 24)
    .action(async (requestId: string, options: { lookback: number }, command: Command) => {
      const config = configOf(context, command);
      const query = new URLSearchParams({
        annotationQuery: `request.id=${requestId}`,
        lookback: String(Math.round(options.lookback * 3_600_000)),
        endTs: String(Date.now()),
        limit: '10',
      });
      const traces = await httpJson<ZipkinSpan[][]>(
        context.fetch ?? ((url, init) => fetch(url, init)),
        `${config.zipkinUrl}/api/v2/traces?${query}`,
        { timeoutMs: config.timeoutMs },
      );
      if (!Array.isArray(traces) || traces.length === 0) {
        throw new OperationFailedError(
          `no trace in Zipkin has request.id=${requestId} (within ${options.lookback} h)`,
        );
      }
      const summaries = traces.map((spans) => summarizeTrace(spans, config.zipkinUrl));
      printResult(context.io, config.json, { requestId, traces: summaries }, () =>
        formatTraces(requestId, summaries),
      );
    });
}
