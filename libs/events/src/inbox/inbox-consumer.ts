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
import { isTransientFailure } from '../faults/failure-classifier';
import { sendToDeadLetterTopic } from './dead-letter';
import type { InboxFaultMetrics } from './inbox-fault-metrics';
import { inboxFaultMetrics } from './inbox-fault-metrics';
import type { OutageBackoff, RetryPolicy } from './retry-policy';
import { DEFAULT_OUTAGE_BACKOFF, DEFAULT_RETRY_POLICY, retryDelayMs } from './retry-policy';

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
  /** Backoff of a partition paused because a dependency is down (registry, database, broker). */
  readonly outageBackoff?: OutageBackoff;
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
  | { readonly kind: 'transient'; readonly error: Error }
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

/** A dependency is down while handling one event: the partition pauses at that event. */
class TransientFailure extends Error {
  constructor(readonly failure: Error) {
    super(failure.message, { cause: failure });
    this.name = 'TransientFailure';
  }
}

/** A chunk stopped early: resume the partition at `offset` once the dependency is back. */
interface ChunkPause {
  readonly offset: string;
  readonly error: Error;
}

interface PartitionOutage {
  attempts: number;
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function minOffset(offsets: readonly string[]): string {
  return offsets.reduce((a, b) => (BigInt(b) < BigInt(a) ? b : a));
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
 * sends the event to `<topic>.dlq` with its error and metadata, and the partition moves on. A
 * failure that says a dependency is down (faults/failure-classifier.ts: registry, database,
 * broker) never dead-letters: the partition holds at that event with backoff until it passes.
 */
export class InboxConsumer {
  private readonly registrations = new Map<string, Registration>();
  private readonly logger: EventsLogger;
  private readonly retry: RetryPolicy;
  private consumer: Consumer | undefined;
  private dlqProducer: Producer | undefined;
  private stopping = false;
  private readonly faults: InboxFaultMetrics | undefined;
  /** Partitions paused because a dependency is down, by topic and partition. */
  private readonly outages = new Map<string, PartitionOutage>();
  /** When the current outage began (logged once, at its start and at its end). */
  private outageSince: number | undefined;
  /**
   * Offsets past a pause point that were already settled (handled, ignored, dead-lettered) but
   * not committed: skipped when the partition is fetched again, so nothing is dead-lettered twice.
   */
  private readonly settledAhead = new Map<string, Set<string>>();

  constructor(private readonly options: InboxConsumerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.faults = options.metrics ? inboxFaultMetrics(options.metrics) : undefined;
  }

  /** Partitions paused now because a dependency is down (0 when healthy). */
  get pausedPartitions(): number {
    return this.outages.size;
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
    // A new assignment starts from the committed offsets: forget the old one's state.
    consumer.on(consumer.events.GROUP_JOIN, () => this.forgetPartitions());
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
    this.forgetPartitions();
    this.outageSince = undefined;
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
      const paused = await this.handleChunk(batch.topic, batch.partition, chunk, payload.heartbeat);
      if (paused) {
        // Commit what came before the failed event, never the event itself.
        const first = chunk[0];
        if (first && BigInt(paused.offset) > BigInt(first.offset)) {
          payload.resolveOffset(String(BigInt(paused.offset) - 1n));
        }
        await payload.commitOffsetsIfNecessary();
        // Returning with the failed event unresolved makes the next fetch start from it.
        await this.backOff(batch.topic, batch.partition, paused, payload);
        return;
      }
      const last = chunk[chunk.length - 1];
      if (last) {
        payload.resolveOffset(last.offset);
        this.forgetSettled(batch.topic, batch.partition, last.offset);
      }
      await payload.commitOffsetsIfNecessary();
      await payload.heartbeat();
      this.partitionRecovered(batch.topic, batch.partition);
    }
  }

  /**
   * A dependency is down: hold the partition at the failed event for a capped, jittered
   * exponential backoff, heartbeating, then return with it unresolved so it is fetched again.
   * (kafkajs' pause/seek/resume was tried first: after a few rounds the resumed partition was
   * sometimes never fetched again, so the partition is held in its batch instead.)
   */
  private async backOff(
    topic: string,
    partition: number,
    paused: ChunkPause,
    payload: EachBatchPayload,
  ): Promise<void> {
    const key = partitionKey(topic, partition);
    const outage = this.outages.get(key) ?? { attempts: 0 };
    outage.attempts += 1;
    this.outages.set(key, outage);
    const consumerName = this.options.name;
    this.faults?.transientFailures.inc({ consumer: consumerName });
    this.faults?.paused.set({ consumer: consumerName }, this.outages.size);
    this.options.metrics?.inboxProcessedTotal.inc({ consumer: consumerName, outcome: 'failed' });
    const backoff = this.options.outageBackoff ?? DEFAULT_OUTAGE_BACKOFF;
    const delay = retryDelayMs({ attempts: Number.POSITIVE_INFINITY, ...backoff }, outage.attempts);
    const meta = {
      err: paused.error,
      consumer: consumerName,
      topic,
      partition,
      offset: paused.offset,
      attempt: outage.attempts,
      retry_in_ms: delay,
    };
    if (this.outageSince === undefined) {
      // Once per outage, not once per attempt and partition: an outage must not flood the logs.
      this.outageSince = Date.now();
      this.logger.warn('a dependency is unavailable; consumer paused, retrying with backoff', meta);
    } else {
      this.logger.debug('dependency still unavailable; partition stays paused', meta);
    }
    const until = Date.now() + delay;
    while (Date.now() < until && payload.isRunning() && !this.stopping) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, until - Date.now())));
      // Keep the group membership alive through a long backoff.
      await payload.heartbeat();
    }
  }

  /** A chunk of a paused partition went through: the dependency is back for it. */
  private partitionRecovered(topic: string, partition: number): void {
    const key = partitionKey(topic, partition);
    const outage = this.outages.get(key);
    if (!outage) return;
    this.outages.delete(key);
    this.faults?.paused.set({ consumer: this.options.name }, this.outages.size);
    if (this.outages.size === 0 && this.outageSince !== undefined) {
      this.logger.info('dependency available again; consumer resumed', {
        consumer: this.options.name,
        outage_ms: Date.now() - this.outageSince,
      });
      this.outageSince = undefined;
    }
  }

  private forgetPartitions(): void {
    this.outages.clear();
    this.settledAhead.clear();
    this.faults?.paused.set({ consumer: this.options.name }, 0);
  }

  private forgetSettled(topic: string, partition: number, upTo: string): void {
    const key = partitionKey(topic, partition);
    const settled = this.settledAhead.get(key);
    if (!settled) return;
    for (const offset of settled) if (BigInt(offset) <= BigInt(upTo)) settled.delete(offset);
    if (settled.size === 0) this.settledAhead.delete(key);
  }

  private async handleChunk(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    heartbeat: () => Promise<void>,
  ): Promise<ChunkPause | undefined> {
    const key = partitionKey(topic, partition);
    const alreadySettled = this.settledAhead.get(key);
    const settled: string[] = [];
    const byTenant = new Map<string, ReadyEvent[]>();
    let stoppedAt: ChunkPause | undefined;
    for (const message of messages) {
      if (alreadySettled?.has(message.offset)) continue;
      const prepared = await this.prepare(message);
      if (prepared.kind === 'transient') {
        // The registry is down: the events before this one go through, this one waits.
        stoppedAt = { offset: message.offset, error: prepared.error };
        break;
      } else if (prepared.kind === 'ignored') {
        this.record('ignored', prepared.metadata);
        settled.push(message.offset);
      } else if (prepared.kind === 'poison') {
        await this.deadLetter(topic, partition, message, prepared.error, 1, prepared.metadata);
        settled.push(message.offset);
      } else {
        const group = byTenant.get(prepared.metadata.tenantid) ?? [];
        group.push(prepared);
        byTenant.set(prepared.metadata.tenantid, group);
      }
    }
    const groups = [...byTenant.values()];
    const pauseAt = (pending: readonly ReadyEvent[], error: Error): ChunkPause => {
      const offsets = pending.map((event) => event.message.offset);
      if (stoppedAt) offsets.push(stoppedAt.offset);
      const offset = minOffset(offsets);
      const ahead = this.settledAhead.get(key) ?? new Set<string>();
      for (const done of settled) if (BigInt(done) > BigInt(offset)) ahead.add(done);
      if (ahead.size > 0) this.settledAhead.set(key, ahead);
      return { offset, error: stoppedAt?.error ?? error };
    };
    for (const [g, group] of groups.entries()) {
      const later = groups.slice(g + 1).flat();
      try {
        const outcomes = await this.processGroup(group);
        group.forEach((event, i) => this.record(outcomes[i] ?? 'processed', event.metadata));
        settled.push(...group.map((event) => event.message.offset));
      } catch (error) {
        // The database (or another dependency) is down: no point trying each event alone.
        if (isTransientFailure(error)) return pauseAt([...group, ...later], error as Error);
        // One of them failed: handle each alone, with retries and the DLQ for the one that fails.
        for (const [i, event] of group.entries()) {
          try {
            await this.handleAlone(topic, partition, event, heartbeat);
            settled.push(event.message.offset);
          } catch (aloneError) {
            if (!(aloneError instanceof TransientFailure)) throw aloneError;
            return pauseAt([...group.slice(i), ...later], aloneError.failure);
          }
        }
      }
    }
    return stoppedAt ? pauseAt([], stoppedAt.error) : undefined;
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
        // An unreachable registry is not the event's fault: never dead-letter it for that.
        if (isTransientFailure(error)) return { kind: 'transient', error: error as Error };
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

  /**
   * One event in its own transaction, retried with backoff, then dead-lettered. A transient
   * failure (a dependency is down) throws a TransientFailure instead: the partition pauses.
   */
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
        if (this.stopping) throw new ConsumerStoppingError();
        if (isTransientFailure(err)) throw new TransientFailure(err);
        if (attempts >= this.retry.attempts) {
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
