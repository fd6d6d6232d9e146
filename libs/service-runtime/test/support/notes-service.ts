import { randomBytes, randomUUID } from 'node:crypto';
import { withTenant } from '@tenantry/db';
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
import type { BackgroundTask, RuntimeHandle } from '../../src';
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

export interface NotesParts {
  readonly durableSeen: EventEnvelope<NoteAdded>[];
  readonly instanceSeen: EventEnvelope<NoteAdded>[];
  publish(tenantId: string, text: string): Promise<void>;
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
  } = {},
): Promise<RuntimeHandle & NotesParts> {
  return createService({
    name: extra.name ?? `${events.domain}-notes`,
    logger,
    database: {
      appUrl: db.appUrl,
      ownerUrl: db.ownerUrl,
      entities: [],
      migrations: [EventTables1764230400000, OutboxSetAside1796238000000],
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
      consumers
        .durable(`${events.domain}.notes-durable`)
        .on(events.noteAdded, async (event) => void durableSeen.push(event));
      consumers
        .perInstance(`${events.domain}.notes-cache.`, { fromBeginning: true })
        .on(events.noteAdded, async (event) => void instanceSeen.push(event));
      const publish = (tenantId: string, text: string): Promise<void> =>
        runWithTenantContext(
          { tenantId, actor: { type: 'user', id: 'u-1' }, requestId: randomUUID() },
          () =>
            withTenant(dataSource, tenantId, async (tx) => {
              await outbox.publish(tx, events.noteAdded, {
                subject: randomUUID(),
                data: { noteId: randomUUID(), text },
              });
            }),
        );
      return {
        http: { configure: () => undefined },
        tasks: extra.tasks,
        exposes: { durableSeen, instanceSeen, publish },
      };
    },
  });
}
