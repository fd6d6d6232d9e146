import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Consumer, EachMessagePayload, Kafka, Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { TenantTransaction } from '@tenantry/db';
import { withTenant } from '@tenantry/db';
import type { InboxOutcome as MetricsInboxOutcome, PlatformMetrics } from '@tenantry/observability';
import { runWithTenantContext } from '@tenantry/tenancy';
import type { EventEnvelope, EventMetadata } from '../envelope/event-envelope';
import { InvalidEnvelopeError, metadataFromHeaders } from '../envelope/event-envelope';
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
  /** Partitions handled in parallel (order is kept within each partition). */
  readonly partitionsConsumedConcurrently?: number;
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
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachMessage: (payload) => this.handleMessage(payload),
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

  private async handleMessage(payload: EachMessagePayload): Promise<void> {
    const { topic, partition, message } = payload;
    let metadata: EventMetadata | undefined;
    let attempts = 0;
    for (;;) {
      attempts += 1;
      try {
        metadata = metadataFromHeaders(message.headers);
        const registration = this.registrations.get(metadata.type);
        if (!registration) {
          this.record('ignored', metadata);
          return;
        }
        const outcome = await this.process(registration, metadata, message.value);
        this.record(outcome, metadata);
        return;
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error));
        const poison = err instanceof InvalidEnvelopeError || err instanceof PoisonEventError;
        const transient = isTransientInfrastructureError(err);
        if (this.stopping) throw new ConsumerStoppingError();
        if (poison || (!transient && attempts >= this.retry.attempts)) {
          await this.deadLetter(payload, err, attempts, metadata);
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
          event_id: metadata?.id,
          event_type: metadata?.type,
          attempt: attempts,
          retry_in_ms: delay,
        });
        await new Promise((resolve) => setTimeout(resolve, delay));
        // Keep the group membership alive through a long retry.
        await payload.heartbeat();
      }
    }
  }

  private async process(
    registration: Registration,
    metadata: EventMetadata,
    value: Buffer | null,
  ): Promise<InboxOutcome> {
    if (!value) throw new PoisonEventError('event has no payload');
    let data: unknown;
    try {
      data = await this.options.codec.decodeAs(registration.definition, value);
    } catch (error) {
      throw new PoisonEventError(`payload cannot be decoded: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const envelope: EventEnvelope<unknown> = { ...metadata, data };
    // Parent: the span the kafkajs instrumentation opened for this message when it runs, or else
    // the publisher's span carried in the headers.
    const parent = trace.getActiveSpan()
      ? context.active()
      : contextFromCarrier({ traceparent: metadata.traceparent, tracestate: metadata.tracestate });
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
            const outcome = await withTenant(
              this.options.dataSource,
              metadata.tenantid,
              async (tx) => {
                const inserted: unknown[] = await tx.manager.query(
                  `INSERT INTO event_inbox (consumer, event_id, event_type, tenant_id)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING event_id`,
                  [this.options.name, metadata.id, metadata.type, metadata.tenantid],
                );
                if (inserted.length === 0) return 'duplicate' as const;
                await registration.handler(envelope, tx);
                return 'processed' as const;
              },
            );
            span.setAttribute('inbox.outcome', outcome);
            return outcome;
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
    payload: EachMessagePayload,
    error: Error,
    attempts: number,
    metadata: EventMetadata | undefined,
  ): Promise<void> {
    const producer = this.dlqProducer;
    if (!producer) throw new Error('consumer is not started');
    // If this send fails the message is not committed and comes back: nothing is lost.
    await sendToDeadLetterTopic(producer, {
      topic: payload.topic,
      partition: payload.partition,
      message: payload.message,
      consumer: this.options.name,
      error,
      attempts,
    });
    this.logger.error('event sent to the dead-letter topic', {
      err: error,
      consumer: this.options.name,
      topic: payload.topic,
      partition: payload.partition,
      offset: payload.message.offset,
      event_id: metadata?.id,
      event_type: metadata?.type,
      tenant_id: metadata?.tenantid,
      attempts,
    });
    this.options.metrics?.dlqEventsTotal.inc({ topic: payload.topic });
    this.record('dead_lettered', metadata);
  }
}
