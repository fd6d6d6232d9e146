import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import type { DeadLetterEntry, ReplayFilter, ReplayReport } from '@tenantry/events';
import { DeadLetterReplayer } from '@tenantry/events';
import { OperationFailedError, UsageError } from '../exit-codes';
import { connectAdmin, kafkaClientOf } from '../kafka-admin';
import type { OpsConfig } from '../ops-config';
import type { OpsContext } from '../ops-context';
import { configOf, platformClientOf } from '../ops-context';
import { formatFields, formatTable, printResult } from '../output';
import { replayRecorder, unrecordedReplayMessage } from '../replay-audit';
import { replayProgressBar } from '../replay-progress-bar';

export function isoTimeArgument(value: string): Date {
  // Date.parse takes odd forms too; ask for an ISO date or date-time.
  const time = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)
    ? new Date(value)
    : new Date(NaN);
  if (Number.isNaN(time.getTime())) throw new InvalidArgumentError('an ISO date or date-time.');
  return time;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

interface FilterOptions {
  readonly id?: string[];
  readonly tenant?: string[];
  readonly type?: string[];
  readonly since?: Date;
  readonly until?: Date;
  readonly includeReplayed?: boolean;
  readonly progress?: boolean;
}

/** The replayer's filter from the command's options (shared by list and replay). */
export function filterOf(options: FilterOptions): ReplayFilter {
  if (options.since && options.until && options.since >= options.until) {
    throw new UsageError('--since must be before --until');
  }
  return {
    ...(options.id?.length ? { eventIds: options.id } : {}),
    ...(options.tenant?.length ? { tenantIds: options.tenant } : {}),
    ...(options.type?.length ? { eventTypes: options.type } : {}),
    ...(options.since ? { since: options.since } : {}),
    ...(options.until ? { until: options.until } : {}),
    ...(options.includeReplayed ? { includeReplayed: true } : {}),
  };
}

function withFilters(command: Command): Command {
  return command
    .addOption(new Option('--id <event-id>', 'only this event (repeatable)').argParser(collect))
    .addOption(
      new Option('--tenant <tenant-id>', 'only this tenant (repeatable)').argParser(collect),
    )
    .addOption(
      new Option('--type <event-type>', 'only this event type (repeatable)').argParser(collect),
    )
    .option('--since <iso-time>', 'failed at or after this time', isoTimeArgument)
    .option('--until <iso-time>', 'failed before this time', isoTimeArgument)
    .option('--no-progress', 'no progress bar on stderr');
}

const firstLine = (text: string | undefined, max = 60) => {
  const line = (text ?? '').split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

export function formatEntries(entries: readonly DeadLetterEntry[]): string {
  if (entries.length === 0) return 'no dead-letter entries match';
  return formatTable(
    ['ENTRY', 'TYPE', 'TENANT', 'FAILED AT', 'REPLAYED', 'REASON'],
    entries.map((e) => [
      e.id,
      e.eventType,
      e.tenantId,
      e.failedAt,
      e.replayed ? 'yes' : 'no',
      firstLine(e.reason),
    ]),
  );
}

/** The replayer, once Kafka has answered (exit 3, promptly, when it does not). */
async function replayerFor(context: OpsContext, config: OpsConfig, progress: boolean) {
  const kafka = kafkaClientOf(config);
  await (await connectAdmin(kafka, config)).disconnect();
  const bar = replayProgressBar(context.io.progressStream, { enabled: progress });
  const replayer = new DeadLetterReplayer(kafka, {
    timeoutMs: config.timeoutMs,
    onProgress: bar.report,
  });
  return { replayer, bar };
}

/**
 * `dlq list|show|replay <topic>` over DeadLetterReplayer (libs/events), with a cli-progress bar on
 * stderr. The only way to replay (`npm run dlq` lists only): identity audits each replay first.
 */
export function registerDlqCommands(program: Command, context: OpsContext): void {
  const dlq = program
    .command('dlq')
    .description("a topic's dead-letter entries: list, show, replay");

  withFilters(
    dlq
      .command('list')
      .description('the entries in <topic>.dlq that match the filters, oldest first per partition')
      .argument('<topic>', 'the original topic, e.g. identity.events'),
  ).action(async (topic: string, options: FilterOptions, command: Command) => {
    const config = configOf(context, command);
    const filter = filterOf(options);
    const { replayer, bar } = await replayerFor(context, config, options.progress !== false);
    try {
      const entries = await replayer.list(topic, filter);
      bar.stop();
      printResult(context.io, config.json, { topic, count: entries.length, entries }, () =>
        formatEntries(entries),
      );
    } finally {
      bar.stop();
    }
  });

  dlq
    .command('show')
    .description('one entry, with its whole failure reason')
    .argument('<topic>', 'the original topic')
    .argument('<entry>', 'an entry id (as `dlq list` prints it) or an event id')
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (topic: string, entryId: string, options: FilterOptions, command: Command) => {
      const config = configOf(context, command);
      const { replayer, bar } = await replayerFor(context, config, options.progress !== false);
      try {
        const matches = (await replayer.list(topic)).filter(
          (e) => e.id === entryId || e.eventId === entryId,
        );
        bar.stop();
        if (matches.length === 0)
          throw new OperationFailedError(`no entry ${entryId} in ${topic}.dlq`);
        printResult(context.io, config.json, matches.length === 1 ? matches[0] : matches, () =>
          matches
            .map((e) =>
              formatFields({
                entry: e.id,
                event: e.eventId,
                type: e.eventType,
                tenant: e.tenantId,
                consumer: e.consumer,
                attempts: e.attempts,
                'failed at': e.failedAt,
                'original topic': e.originalTopic,
                position: `${topic}.dlq/${e.partition}/${e.offset}`,
                replayed: e.replayed ? 'yes' : 'no',
                reason: e.reason,
              }),
            )
            .join('\n\n'),
        );
      } finally {
        bar.stop();
      }
    });

  withFilters(
    dlq
      .command('replay')
      .description(
        'replay matching entries to <topic> (same event ids: inboxes skip what they already had); ' +
          'entries an earlier replay marked are skipped; identity audits each chunk first, ' +
          'and what it does not record is not replayed',
      )
      .argument('<topic>', 'the original topic')
      .option('--include-replayed', 'replay entries an earlier replay marked, too'),
  ).action(async (topic: string, options: FilterOptions, command: Command) => {
    const config = configOf(context, command);
    const filter = filterOf(options);
    // An operator credential, checked by identity, before anything is read or re-produced; then
    // identity records each chunk (POST /v1/platform/dlq-replays) before it is re-produced.
    const client = platformClientOf(context, config);
    const { operatorId } = await client.logIn();
    const recorder = replayRecorder(client, topic, filter);
    const { replayer, bar } = await replayerFor(context, config, options.progress !== false);
    try {
      let report: ReplayReport;
      try {
        report = await replayer.replayWithReport(topic, filter, { record: recorder.record });
      } catch (error) {
        bar.stop();
        if (recorder.failed) context.io.err(unrecordedReplayMessage(topic, recorder.recorded));
        throw error;
      }
      bar.stop();
      const auditIds = recorder.recorded.map((r) => r.auditId);
      context.io.err(
        `dlq replay ${topic}: ${report.replayed.length} replayed, ${report.alreadyReplayed.length} skipped, by operator ${operatorId}` +
          (auditIds.length ? `, audit ${auditIds.join(', ')}` : ''),
      );
      const result = {
        topic,
        operatorId,
        auditIds,
        count: report.replayed.length,
        entries: report.replayed,
        skipped: report.alreadyReplayed.map((e) => e.id),
      };
      printResult(context.io, config.json, result, () =>
        [
          `replayed ${report.replayed.length} entr${report.replayed.length === 1 ? 'y' : 'ies'} to ${topic}` +
            (report.alreadyReplayed.length
              ? ` (${report.alreadyReplayed.length} replayed before, skipped)`
              : ''),
          ...(auditIds.length ? [`audit: ${auditIds.join(', ')}`] : []),
          ...(report.replayed.length ? [formatEntries(report.replayed)] : []),
        ].join('\n'),
      );
    } finally {
      bar.stop();
    }
  });
}
