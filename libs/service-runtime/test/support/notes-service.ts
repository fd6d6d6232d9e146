import { randomBytes, randomUUID } from 'node:crypto';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantRowLevelSecurity, withTenant } from '@tenantry/db';
import type { EventEnvelope } from '@tenantry/events';
import {
  EventTables1764230400000,
  OutboxSetAside1796238000000,
  defineEvent,
} from '@tenantry/events';
import { createLogger } from '@tenantry/observability';
import { runWithTenantContext } from '@tenantry/tenancy';
import type { TestDatabase } from '@tenantry/testing';
import { testStackEnv } from '@tenantry/testing';
import type { BackgroundTask, RuntimeHandle, ServiceConsumerOptions } from '../../src';
import { createService } from '../../src';

/**
 * A small service built with createService for the runtime's tests: one topic of notes, a
 * durable and a per-instance consumer of it, and `publish` through the outbox.
 */
interface NoteAdded {
  noteId: string;
  text: string;
}

const logger = createLogger('runtime-test', { level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** A fresh domain per test: its topic, registry subject and consumer groups are its own. */
export function catalogue() {
  const domain = `rt${randomBytes(4).toString('hex')}`;
  const topic = `${domain}.notes`;
  return {
    domain,
    topic,
    noteAdded: defineEvent<NoteAdded>({
      type: `${domain}.note.added`,
      topic,
      schema: {
        type: 'record',
        name: 'NoteAdded',
        namespace: 'tenantry.test',
        fields: [
          { name: 'noteId', type: 'string' },
          { name: 'text', type: 'string' },
        ],
      },
    }),
  };
}

export type Catalogue = ReturnType<typeof catalogue>;

/** The durable consumer's side effect when `ledger` is on: one row per note it applies. */
export class CreateNoteLedger1796238100000 implements MigrationInterface {
  name = 'CreateNoteLedger1796238100000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE note_ledger (
        tenant_id text NOT NULL,
        note_id text NOT NULL,
        text text NOT NULL,
        -- No uniqueness on note_id on purpose: a note applied twice shows as a second row.
        seq bigserial PRIMARY KEY
      )`);
    await enableTenantRowLevelSecurity(queryRunner, 'note_ledger');
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE note_ledger`);
  }
}

export interface NoteLedgerRow {
  readonly note_id: string;
  readonly text: string;
}

export interface NotesParts {
  readonly durableSeen: EventEnvelope<NoteAdded>[];
  readonly instanceSeen: EventEnvelope<NoteAdded>[];
  /** Notes of one `subject` share a Kafka key, so a partition (random when absent). */
  publish(tenantId: string, text: string, subject?: string): Promise<void>;
  /** The durable consumer's `note_ledger` rows of a tenant, in the order applied (with `ledger`). */
  ledger(tenantId: string): Promise<NoteLedgerRow[]>;
}

export function startNotesService(
  db: TestDatabase,
  events: Catalogue,
  extra: {
    readonly name?: string;
    readonly tasks?: readonly BackgroundTask[];
    readonly metricsPort?: number;
    readonly failAssembly?: boolean;
    readonly kafkaBrokers?: string[];
    readonly kafkaReadiness?: boolean;
    /** Options of the durable consumer (for example `readAheadBytes`). */
    readonly durable?: ServiceConsumerOptions;
    /**
     * The durable consumer writes a `note_ledger` row per note in its inbox transaction, after
     * `beforeApply` (which a test can use to hold a note while it is being applied).
     */
    readonly ledger?: {
      readonly beforeApply?: (event: EventEnvelope<NoteAdded>) => Promise<void>;
    };
  } = {},
): Promise<RuntimeHandle & NotesParts> {
  return createService({
    name: extra.name ?? `${events.domain}-notes`,
    logger,
    database: {
      appUrl: db.appUrl,
      ownerUrl: db.ownerUrl,
      entities: [],
      migrations: [
        EventTables1764230400000,
        OutboxSetAside1796238000000,
        ...(extra.ledger ? [CreateNoteLedger1796238100000] : []),
      ],
    },
    kafkaBrokers: extra.kafkaBrokers ?? testStackEnv().kafkaBrokers,
    schemaRegistryUrl: testStackEnv().schemaRegistryUrl,
    topics: [{ name: events.topic, partitions: 2 }],
    produces: [events.noteAdded],
    relay: { pollIntervalMs: 100 },
    http: {
      contextKeys: false,
      port: 0,
      metricsPort: extra.metricsPort,
      kafkaReadiness: extra.kafkaReadiness,
    },
    assemble({ dataSource, outbox, consumers }) {
      if (extra.failAssembly) throw new Error('assembly refused on purpose');
      const durableSeen: EventEnvelope<NoteAdded>[] = [];
      const instanceSeen: EventEnvelope<NoteAdded>[] = [];
      const { ledger } = extra;
      consumers
        .durable(`${events.domain}.notes-durable`, extra.durable)
        .on(events.noteAdded, async (event, tx) => {
          durableSeen.push(event);
          if (!ledger) return;
          await ledger.beforeApply?.(event);
          await tx.manager.query(
            `INSERT INTO note_ledger (tenant_id, note_id, text) VALUES ($1, $2, $3)`,
            [tx.tenantId, event.data.noteId, event.data.text],
          );
        });
      consumers
        .perInstance(`${events.domain}.notes-cache.`, { fromBeginning: true })
        .on(events.noteAdded, async (event) => void instanceSeen.push(event));
      const publish = (tenantId: string, text: string, subject?: string): Promise<void> =>
        runWithTenantContext(
          { tenantId, actor: { type: 'user', id: 'u-1' }, requestId: randomUUID() },
          () =>
            withTenant(dataSource, tenantId, async (tx) => {
              await outbox.publish(tx, events.noteAdded, {
                subject: subject ?? randomUUID(),
                data: { noteId: randomUUID(), text },
              });
            }),
        );
      const readLedger = (tenantId: string): Promise<NoteLedgerRow[]> =>
        withTenant(dataSource, tenantId, (tx) =>
          tx.manager.query(`SELECT note_id, text FROM note_ledger ORDER BY seq`),
        );
      return {
        http: { configure: () => undefined },
        tasks: extra.tasks,
        exposes: { durableSeen, instanceSeen, publish, ledger: readLedger },
      };
    },
  });
}
