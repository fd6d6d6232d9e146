import { Client } from 'pg';
import type { Logger } from 'winston';
import { createKafkaClient } from '@tenantry/events';
import { ApiCallCompletedEvent } from '@tenantry/contracts';
import { reportingConsumerGroups } from '../../messaging/reporting-consumers';
import { PLATFORM_TABLES } from '../../persistence/migrations/platform-views.migration';
import { REPORTING_TENANT_TABLES } from '../../persistence/migrations/reporting-schema.migration';

export interface RebuildOptions {
  /** The reporting database's owner (TRUNCATE is the one statement forced RLS does not scope). */
  readonly databaseOwnerUrl: string;
  readonly kafkaBrokers: readonly string[];
  readonly consumerGroupPrefix: string;
  /**
   * `gateway.usage` keeps a day: once its oldest offsets are gone, a rebuild loses the usage
   * buckets of what was deleted. Refused unless this is set.
   */
  readonly acceptUsageLoss?: boolean;
  readonly logger?: Pick<Logger, 'info'>;
}

export interface RebuildResult {
  readonly groups: string[];
  readonly tablesCleared: string[];
  readonly inboxRowsDeleted: number;
  /** Partitions of `gateway.usage` that no longer start at offset 0. */
  readonly usagePartitionsTrimmed: number;
}

export class RebuildRefusedError extends Error {
  constructor(reason: string) {
    super(`rebuild refused: ${reason}`);
    this.name = 'RebuildRefusedError';
  }
}

// Tombstones stay: a deleted tenant's events that are still retained must not come back.
const CLEARED_TABLES = [
  ...REPORTING_TENANT_TABLES.filter((t) => t !== 'tenant_tombstones'),
  ...PLATFORM_TABLES,
];

/**
 * Rebuilds every read model in place from the topics, with reporting stopped: the consumer
 * groups go back to their earliest offsets, then (one transaction) the read-model tables are
 * emptied and the groups' inbox rows deleted, so the next start applies every retained event
 * again. Offsets first: if the truncate then fails, the restart meets only inbox duplicates and
 * the old read models stay whole.
 */
export async function rebuildReadModels(options: RebuildOptions): Promise<RebuildResult> {
  const groups = reportingConsumerGroups(options.consumerGroupPrefix);
  const kafka = createKafkaClient({
    clientId: `reporting-rebuild-${process.pid}`,
    brokers: options.kafkaBrokers,
  });
  const admin = kafka.admin();
  await admin.connect();
  let usagePartitionsTrimmed = 0;
  try {
    const described = await admin.describeGroups(groups.map((g) => g.group));
    const running = described.groups.filter((g) => g.members.length > 0);
    if (running.length > 0) {
      throw new RebuildRefusedError(
        `consumer groups still have members (stop reporting first): ${running.map((g) => g.groupId).join(', ')}`,
      );
    }
    const usageOffsets = await admin.fetchTopicOffsets(ApiCallCompletedEvent.topic);
    usagePartitionsTrimmed = usageOffsets.filter((p) => BigInt(p.low) > 0n).length;
    if (usagePartitionsTrimmed > 0 && !options.acceptUsageLoss) {
      throw new RebuildRefusedError(
        `${ApiCallCompletedEvent.topic} no longer holds its oldest events on ${usagePartitionsTrimmed} partitions; usage before them would be lost (pass acceptUsageLoss)`,
      );
    }
    for (const { group, topic } of groups) {
      await admin.resetOffsets({ groupId: group, topic, earliest: true });
    }
  } finally {
    await admin.disconnect();
  }
  options.logger?.info('consumer groups reset to the earliest offsets', {
    groups: groups.map((g) => g.group),
  });

  const client = new Client({ connectionString: options.databaseOwnerUrl });
  await client.connect();
  let inboxRowsDeleted = 0;
  try {
    await client.query('BEGIN');
    await client.query(`TRUNCATE ${CLEARED_TABLES.join(', ')}`);
    const deleted = await client.query(`DELETE FROM event_inbox WHERE consumer = ANY($1::text[])`, [
      groups.map((g) => g.group),
    ]);
    inboxRowsDeleted = deleted.rowCount ?? 0;
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
  options.logger?.info('read models cleared; the next start applies every retained event', {
    tables: CLEARED_TABLES,
    inbox_rows_deleted: inboxRowsDeleted,
  });
  return {
    groups: groups.map((g) => g.group),
    tablesCleared: CLEARED_TABLES,
    inboxRowsDeleted,
    usagePartitionsTrimmed,
  };
}
