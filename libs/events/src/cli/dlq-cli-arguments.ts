import type { DeadLetterFilter } from '../dlq/dead-letter-replayer';

/** Replaying re-produces events into live topics: an operator action, audited by identity. */
export const REPLAY_THROUGH_OPS_CLI =
  'replay is an audited operator action: npx tenantry dlq replay <topic> [filters] ' +
  '(tools/ops-cli; identity records it, with the operator, before anything is sent)';

export const DLQ_USAGE = [
  'usage: dlq list <topic> [filters]   (read-only; replays: npx tenantry dlq replay)',
  'filters: --id <event id> --tenant <tenant id> --type <event type> (each repeatable)',
  '         --since <ISO time> --until <ISO time> (failure time, since inclusive, until exclusive)',
  'options: --timeout <seconds> (default 60)',
].join('\n');

export interface DlqCommand {
  readonly command: 'list';
  readonly topic: string;
  readonly filter: DeadLetterFilter;
  readonly timeoutMs: number;
}

/** A command line the CLI cannot run: exit code 2 with the usage. */
export class DlqUsageError extends Error {
  override readonly name = 'DlqUsageError';
}

function isoTime(flag: string, value: string): Date {
  // Date.parse accepts odd forms too; ask for an ISO date or date-time.
  const time = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)
    ? new Date(value)
    : new Date(NaN);
  if (Number.isNaN(time.getTime()))
    throw new DlqUsageError(`${flag} wants an ISO time, not ${value}`);
  return time;
}

export function parseDlqArguments(argv: readonly string[]): DlqCommand {
  const [command, topic, ...rest] = argv;
  if (command === 'replay') throw new DlqUsageError(REPLAY_THROUGH_OPS_CLI);
  if (command !== 'list') throw new DlqUsageError('list what?');
  if (!topic || topic.startsWith('--')) throw new DlqUsageError('which topic?');
  const lists = { '--id': [] as string[], '--tenant': [] as string[], '--type': [] as string[] };
  let since: Date | undefined;
  let until: Date | undefined;
  let timeoutMs = 60_000;
  for (let i = 0; i < rest.length; i += 1) {
    const flag = rest[i] as string;
    const value = rest[i + 1];
    if (value === undefined || value.startsWith('--')) {
      throw new DlqUsageError(`${flag} is not an option here, or wants a value`);
    }
    i += 1;
    if (flag === '--id' || flag === '--tenant' || flag === '--type') lists[flag].push(value);
    else if (flag === '--since') since = isoTime(flag, value);
    else if (flag === '--until') until = isoTime(flag, value);
    else if (flag === '--timeout' && /^\d+(\.\d+)?$/.test(value) && Number(value) > 0) {
      timeoutMs = Number(value) * 1000;
    } else throw new DlqUsageError(`unknown argument ${flag} ${value}`);
  }
  if (since && until && since >= until) throw new DlqUsageError('--since must be before --until');
  const filter: DeadLetterFilter = {
    ...(lists['--id'].length > 0 ? { eventIds: lists['--id'] } : {}),
    ...(lists['--tenant'].length > 0 ? { tenantIds: lists['--tenant'] } : {}),
    ...(lists['--type'].length > 0 ? { eventTypes: lists['--type'] } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
  };
  return { command, topic, filter, timeoutMs };
}
