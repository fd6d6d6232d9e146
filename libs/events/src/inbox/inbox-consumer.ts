import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { TenantTransaction } from '@tenantry/db';
import { withTenant } from '@tenantry/db';
import type { InboxOutcome as MetricsInboxOutcome, PlatformMetrics } from '@tenantry/observability';
import { runWithTenantContext } from '@tenantry/tenancy';
import type { EventEnvelope, EventMetadata } from '../envelope/event-envelope';
import { metadataFromHeaders } from '../envelope/event-envelope';
import type { EventCodec } from '../schema/event-codec';
import type { EventDefinition } from '../schema/event-definition';
import type { EventsLogger } from '../kafka/events-logger';
import { silentLogger } from '../kafka/events-logger';
import { contextFromCarrier } from '../outbox/trace-carrier';
import { sendToDeadLetterTopic } from './dead-letter';
import type { RetryPolicy } from './retry-policy';
import { DEFAULT_RETRY_POLICY, isTransientInfrastructureError, retryDelayMs } from './retry-policy';

export type EventHandler<T> = (event: EventEnvelope<T>, tx: TenantTransaction) => Promise<void>;

/** What happened to one message (failed attempts that are retried are counted as `failed`). */
export type InboxOutcome = Exclude<MetricsInboxOutcome, 'failed'>;

export interface InboxConsumerOptions {
  /** Consumer name: the Kafka group id and the inbox's key; one per service and purpose. */
  readonly name: string;
  readonly kafka: Kafka;
  readonly dataSource: DataSource;
  readonly codec: EventCodec;
  readonly logger?: EventsLogger;
  readonly retry?: RetryPolicy;
  /** Partitions handled in parallel (order is kept within each partition). Default 3. */
  readonly partitionsConsumedConcurrently?: number;
  /**
   * Events of one tenant handled in one transaction (default 100). A failure in the group rolls
   * it back and its events are handled one by one, so only the bad one is retried or
   * dead-lettered.
   */
  readonly maxEventsPerTransaction?: number;
  /** Start from the earliest offset when the group has none yet. */
  readonly fromBeginning?: boolean;
  /** Called once per message with its outcome (for tests and extra bookkeeping). */
  readonly onOutcome?: (outcome: InboxOutcome, metadata: EventMetadata | undefined) => void;
  /** Outcome counts, DLQ counts and consumer lag go here when given. */
  readonly metrics?: PlatformMetrics;
}

interface Registration {
  readonly definition: EventDefinition<unknown>;
  readonly handler: EventHandler<unknown>;
}

interface ReadyEvent {
  readonly kind: 'ready';
  readonly message: KafkaMessage;
  readonly metadata: EventMetadata;
  readonly registration: Registration;
  readonly envelope: EventEnvelope<unknown>;
}

type Prepared =
  | ReadyEvent
  | { readonly kind: 'ignored'; readonly metadata: EventMetadata }
  | {
      readonly kind: 'poison';
      readonly metadata: EventMetadata | undefined;
      readonly error: Error;
    };

class PoisonEventError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PoisonEventError';
  }
}

class ConsumerStoppingError extends Error {
  constructor() {
    super('consumer is stopping; the event will be redelivered');
    this.name = 'ConsumerStoppingError';
  }
}

const tracer = trace.getTracer('@tenantry/events');

/**
 * The only way to consume events. Each event runs inside its tenant and actor context, in one
 * tenant transaction with its `(consumer, event id)` inbox row, so a redelivered event is seen
 * and skipped; the offset is committed only after that transaction. A handler that keeps failing
 * sends the event to `<topic>.dlq` with its error and metadata, and the partition moves on.
 */
export class InboxConsumer {
  private readonly registrations = new Map<string, Registration>();
  private readonly logger: EventsLogger;
  private readonly retry: RetryPolicy;
  private consumer: Consumer | undefined;
  private dlqProducer: Producer | undefined;
  private stopping = false;

  constructor(private readonly options: InboxConsumerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
  }

  /** Registers the handler of one event type (before `start`). */
  on<T>(definition: EventDefinition<T>, handler: EventHandler<T>): this {
    if (this.consumer) throw new Error('register handlers before starting the consumer');
    if (this.registrations.has(definition.type)) {
      throw new Error(`${definition.type} already has a handler in ${this.options.name}`);
    }
    this.registrations.set(definition.type, {
      definition: definition as EventDefinition<unknown>,
      handler: handler as EventHandler<unknown>,
    });
    return this;
  }

  get topics(): string[] {
    return [...new Set([...this.registrations.values()].map((r) => r.definition.topic))];
  }

  async start(): Promise<void> {
    if (this.registrations.size === 0) throw new Error(`${this.options.name} has no handlers`);
    this.stopping = false;
    this.dlqProducer = this.options.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.dlqProducer.connect();
    const consumer = this.options.kafka.consumer({
      groupId: this.options.name,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    const lag = this.options.metrics?.consumerLag;
    if (lag) {
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        lag.set(
          {
            consumer: this.options.name,
            topic: payload.topic,
            partition: String(payload.partition),
          },
          Number(payload.offsetLag),
        );
      });
    }
    await consumer.connect();
    await consumer.subscribe({
      topics: this.topics,
      fromBeginning: this.options.fromBeginning ?? true,
    });
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  /** Finishes the message in hand (or abandons its retries, leaving it uncommitted), then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer?.disconnect().catch(() => undefined);
    await this.dlqProducer?.disconnect().catch(() => undefined);
    this.consumer = undefined;
    this.dlqProducer = undefined;
  }

  private record(outcome: InboxOutcome, metadata: EventMetadata | undefined): void {
    this.options.metrics?.inboxProcessedTotal.inc({ consumer: this.options.name, outcome });
    this.options.onOutcome?.(outcome, metadata);
  }

  /**
   * A fetched batch of one partition, in order, in chunks: each chunk's events are grouped by
   * tenant and each group is handled in one transaction; offsets are resolved after the chunk.
   */
  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const size = this.options.maxEventsPerTransaction ?? 100;
    for (let start = 0; start < batch.messages.length; start += size) {
      if (!payload.isRunning() || payload.isStale()) return;
      const chunk = batch.messages.slice(start, start + size);
      await this.handleChunk(batch.topic, batch.partition, chunk, payload.heartbeat);
      const last = chunk[chunk.length - 1];
      if (last) payload.resolveOffset(last.offset);
      await payload.commitOffsetsIfNecessary();
      await payload.heartbeat();
    }
  }

  private async handleChunk(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const byTenant = new Map<string, ReadyEvent[]>();
    for (const message of messages) {
      const prepared = await this.prepare(message);
      if (prepared.kind === 'ignored') {
        this.record('ignored', prepared.metadata);
      } else if (prepared.kind === 'poison') {
        await this.deadLetter(topic, partition, message, prepared.error, 1, prepared.metadata);
      } else {
        const group = byTenant.get(prepared.metadata.tenantid) ?? [];
        group.push(prepared);
        byTenant.set(prepared.metadata.tenantid, group);
      }
    }
    for (const group of byTenant.values()) {
      try {
        const outcomes = await this.processGroup(group);
        group.forEach((event, i) => this.record(outcomes[i] ?? 'processed', event.metadata));
      } catch {
        // One of them failed: handle each alone, with retries and the DLQ for the one that fails.
        for (const event of group) {
          await this.handleAlone(topic, partition, event, heartbeat);
        }
      }
    }
  }

  /** Envelope, handler and payload of one message, or why it cannot be handled at all. */
  private async prepare(message: KafkaMessage): Promise<Prepared> {
    let metadata: EventMetadata | undefined;
    try {
      metadata = metadataFromHeaders(message.headers);
      const registration = this.registrations.get(metadata.type);
      if (!registration) return { kind: 'ignored', metadata };
      if (!message.value) throw new PoisonEventError('event has no payload');
      let data: unknown;
      try {
        data = await this.options.codec.decodeAs(registration.definition, message.value);
      } catch (error) {
        throw new PoisonEventError(`payload cannot be decoded: ${(error as Error).message}`, {
          cause: error,
        });
      }
      return { kind: 'ready', message, metadata, registration, envelope: { ...metadata, data } };
    } catch (error) {
      return {
        kind: 'poison',
        metadata,
        error: error instanceof Error ? error : new Error(String(error)),
      };
    }
  }

  /** One event in its own transaction, retried with backoff, then dead-lettered. */
  private async handleAlone(
    topic: string,
    partition: number,
    event: ReadyEvent,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const { message, metadata } = event;
    let attempts = 0;
    for (;;) {
      attempts += 1;
      try {
        const [outcome] = await this.processGroup([event]);
        this.record(outcome ?? 'processed', metadata);
        return;
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error));
        const transient = isTransientInfrastructureError(err);
        if (this.stopping) throw new ConsumerStoppingError();
        if (!transient && attempts >= this.retry.attempts) {
          await this.deadLetter(topic, partition, message, err, attempts, metadata);
          return;
        }
        this.options.metrics?.inboxProcessedTotal.inc({
          consumer: this.options.name,
          outcome: 'failed',
        });
        const delay = retryDelayMs(this.retry, attempts);
        this.logger.warn('event handling failed; retrying', {
          err,
          consumer: this.options.name,
          topic,
          partition,
          offset: message.offset,
          event_id: metadata.id,
          event_type: metadata.type,
          tenant_id: metadata.tenantid,
          attempt: attempts,
          retry_in_ms: delay,
        });
        await new Promise((resolve) => setTimeout(resolve, delay));
        // Keep the group membership alive through a long retry.
        await heartbeat();
      }
    }
  }

  /**
   * One tenant transaction: records every event of the group in the inbox in one statement, then
   * runs the handler of each event that was not there yet, in order, each inside its own tenant
   * context and span. Throws (rolling everything back) if any handler throws.
   */
  private async processGroup(group: readonly ReadyEvent[]): Promise<InboxOutcome[]> {
    const tenantId = (group[0] as ReadyEvent).metadata.tenantid;
    return withTenant(this.options.dataSource, tenantId, async (tx) => {
      const params: string[] = [];
      const rows = group.map(({ metadata }, i) => {
        params.push(this.options.name, metadata.id, metadata.type, metadata.tenantid);
        return `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4})`;
      });
      const inserted: { event_id: string }[] = await tx.manager.query(
        `INSERT INTO event_inbox (consumer, event_id, event_type, tenant_id)
         VALUES ${rows.join(', ')} ON CONFLICT DO NOTHING RETURNING event_id`,
        params,
      );
      const fresh = new Set(inserted.map((row) => row.event_id));
      const outcomes: InboxOutcome[] = [];
      for (const event of group) {
        // The same event twice in one batch: only its first copy is new.
        if (!fresh.delete(event.metadata.id)) {
          outcomes.push('duplicate');
          continue;
        }
        await this.runHandler(event, tx);
        outcomes.push('processed');
      }
      return outcomes;
    });
  }

  private runHandler(event: ReadyEvent, tx: TenantTransaction): Promise<void> {
    const { metadata, registration, envelope } = event;
    // Batches carry many traces: each event's parent is the publisher's span from its headers.
    const parent = contextFromCarrier(
      { traceparent: metadata.traceparent, tracestate: metadata.tracestate },
      context.active(),
    );
    const tenantContext = {
      tenantId: metadata.tenantid,
      actor: { type: metadata.actortype, id: metadata.actorid },
      requestId: metadata.correlationid,
      correlationId: metadata.correlationid,
      causationId: metadata.id,
    };
    return runWithTenantContext(tenantContext, () =>
      tracer.startActiveSpan(
        `handle ${metadata.type}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            'messaging.system': 'kafka',
            'messaging.operation.type': 'process',
            'messaging.consumer.group.name': this.options.name,
            'messaging.message.id': metadata.id,
            'cloudevents.event_type': metadata.type,
            'tenant.id': metadata.tenantid,
            'actor.type': metadata.actortype,
            'actor.id': metadata.actorid,
          },
        },
        parent,
        async (span) => {
          try {
            await registration.handler(envelope, tx);
          } catch (error) {
            span.recordException(error as Error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
            throw error;
          } finally {
            span.end();
          }
        },
      ),
    );
  }

  private async deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    error: Error,
    attempts: number,
    metadata: EventMetadata | undefined,
  ): Promise<void> {
    const producer = this.dlqProducer;
    if (!producer) throw new Error('consumer is not started');
    // If this send fails the batch is not committed and comes back: nothing is lost.
    await sendToDeadLetterTopic(producer, {
      topic,
      partition,
      message,
      consumer: this.options.name,
      error,
      attempts,
    });
    this.logger.error('event sent to the dead-letter topic', {
      err: error,
      consumer: this.options.name,
      topic,
      partition,
      offset: message.offset,
      event_id: metadata?.id,
      event_type: metadata?.type,
      tenant_id: metadata?.tenantid,
      attempts,
    });
    this.options.metrics?.dlqEventsTotal.inc({ topic });
    this.record('dead_lettered', metadata);
  }
}
