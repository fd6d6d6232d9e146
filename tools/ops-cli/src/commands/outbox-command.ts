import type { Command } from 'commander';
import { OperationFailedError, PlatformUnreachableError } from '../exit-codes';
import { networkReason } from '../http-json';
import type { OpsContext } from '../ops-context';
import { configOf } from '../ops-context';
import { formatTable, printResult } from '../output';
import { sampleValue } from '../prometheus-text';

export interface OutboxStatus {
  readonly service: string;
  readonly url: string;
  readonly backlog?: number;
  readonly oldestAgeSeconds?: number;
  /** Why this service could not be read. */
  readonly error?: string;
  readonly unreachable?: boolean;
}

async function scrape(
  fetchFn: NonNullable<OpsContext['fetch']>,
  service: string,
  url: string,
  timeoutMs: number,
): Promise<OutboxStatus> {
  let response: Response;
  try {
    response = await fetchFn(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    return { service, url, unreachable: true, error: networkReason(error, timeoutMs) };
  }
  if (!response.ok) return { service, url, error: `HTTP ${response.status}` };
  const text = await response.text();
  const backlog = sampleValue(text, 'outbox_backlog');
  const oldestAgeSeconds = sampleValue(text, 'outbox_oldest_age_seconds');
  if (backlog === undefined) return { service, url, error: 'no outbox_backlog metric' };
  return { service, url, backlog, ...(oldestAgeSeconds === undefined ? {} : { oldestAgeSeconds }) };
}

export function formatOutbox(rows: readonly OutboxStatus[]): string {
  return formatTable(
    ['SERVICE', 'BACKLOG', 'OLDEST AGE (s)', 'METRICS'],
    rows.map((r) => [
      r.service,
      r.error ? `error: ${r.error}` : r.backlog,
      r.error ? undefined : (r.oldestAgeSeconds ?? 0),
      r.url,
    ]),
  );
}

/**
 * `outbox status`: each service's `outbox_backlog` and `outbox_oldest_age_seconds` from its
 * /metrics. Exit 0 when every service answered, 3 when one was unreachable, 1 when one answered
 * without the metrics.
 */
export function registerOutboxCommand(program: Command, context: OpsContext): void {
  program
    .command('outbox')
    .description("the transactional outboxes' backlog, from each service's metrics")
    .command('status')
    .description(
      'backlog and oldest unpublished row per service (URLs: --metrics or TENANTRY_METRICS_URLS, ' +
        'service=url pairs; default the local stack)',
    )
    .action(async (_options: unknown, command: Command) => {
      const config = configOf(context, command);
      const fetchFn = context.fetch ?? ((url: string, init?: RequestInit) => fetch(url, init));
      const rows = await Promise.all(
        Object.entries(config.metricsUrls).map(([service, url]) =>
          scrape(fetchFn, service, url, config.timeoutMs),
        ),
      );
      printResult(context.io, config.json, { services: rows }, () => formatOutbox(rows));
      const unreachable = rows.filter((r) => r.unreachable).map((r) => r.service);
      if (unreachable.length)
        throw new PlatformUnreachableError(`unreachable: ${unreachable.join(', ')}`);
      const failed = rows.filter((r) => r.error).map((r) => r.service);
      if (failed.length)
        throw new OperationFailedError(`no outbox metrics from ${failed.join(', ')}`);
    });
}
