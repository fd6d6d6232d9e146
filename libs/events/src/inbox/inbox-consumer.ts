import type { Attributes, Context } from '@opentelemetry/api';
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
import { claimInboxRows } from './inbox-claim';
import { tenantRounds } from './tenant-rounds';
import { sendToDeadLetterTopic } from './dead-letter';
import type { InboxFaultMetrics } from './inbox-fault-metrics';
import { inboxFaultMetrics } from './inbox-fault-metrics';
import type { OutageBackoff, RetryPolicy } from './retry-policy';
import { DEFAULT_OUTAGE_BACKOFF, DEFAULT_RETRY_POLICY, retryDelayMs } from './retry-policy';
import type { SettledBatch } from './read-ahead-window';
import { ReadAheadWindow } from './read-ahead-window';

export type EventHandler<T> = (event: EventEnvelope<T>, tx: TenantTransaction) => Promise<void>;

/**
 * Applies consecutive events of one type and one tenant together (for example with one multi-row
 * statement), in the transaction that records them in the inbox. Events come in partition order.
 */
export type EventBatchHandler<T> = (
  events: readonly EventEnvelope<T>[],
  tx: TenantTransaction,
  source: EventBatchSource,
) => Promise<void>;

/**
 * Where a batch handler's events were fetched from. Concurrent transactions of one tenant come
 * from different partitions, so a handler can use the partition to spread a tenant's writes over
 * rows that those transactions do not share.
 */
export interface EventBatchSource {
  readonly topic: string;
  readonly partition: number;
}

/** A fetched batch whose events, and every event before them in the partition, are settled. */
export interface SettledFetchedBatch extends SettledBatch {
  readonly topic: string;
  readonly partition: number;
}

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
   * Events of one tenant handled in one transaction (default 500). A failure in the group rolls
   * it back and its events are handled one by one, so only the bad one is retried or
   * dead-lettered.
   */
  readonly maxEventsPerTransaction?: number;
  /**
   * Transactions of different tenants of one partition in flight at once (default 2), so one
   * group's commit overlaps the next group's work; never two of one tenant, so its order holds.
   * A consumer uses up to partitionsConsumedConcurrently × this many database connections.
   */
  readonly tenantGroupsConcurrently?: number;
  /**
   * Most bytes kafkajs fetches of one partition at a time (kafkajs' default, 1 MiB, when absent).
   * With all partitions consumed at once, a fetch is done when its slowest batch is: smaller
   * batches shorten what an event on an idle partition waits for.
   */
  readonly maxBytesPerPartition?: number;
  /** Most bytes of one fetch over all partitions (kafkajs' default, 10 MiB, when absent). */
  readonly maxBytes?: number;
  /**
   * Read-ahead (off when absent or 0): fetched events of all partitions held in memory ahead of
   * the committed offsets, up to about this many bytes (key, value and headers). Fetching then
   * goes on while the events already fetched are applied, in tenant rounds over everything held
   * for a partition, so a tenant's event behind another tenant's burst waits for about one round
   * once it is fetched, not for the burst. Offsets are committed only up to the last event before
   * which every event is settled; after a restart or a rebalance the rest is fetched again and
   * what was applied already is skipped by the inbox. Assumes producers that are not
   * transactional (the platform's are idempotent), so the last record of a partition is an event.
   */
  readonly readAheadBytes?: number;
  /** Start from the earliest offset when the group has none yet. */
  readonly fromBeginning?: boolean;
  /** Called once per message with its outcome (for tests and extra bookkeeping). */
  readonly onOutcome?: (outcome: InboxOutcome, metadata: EventMetadata | undefined) => void;
  /**
   * Called when every event of a fetched batch, and every event before it in its partition, is
   * settled, with the time from its fetch until then (for benchmarks and tests).
   */
  readonly onBatchSettled?: (batch: SettledFetchedBatch) => void;
  /** Outcome counts, DLQ counts and consumer lag go here when given. */
  readonly metrics?: PlatformMetrics;
}

type Registration =
  | {
      readonly kind: 'each';
      readonly definition: EventDefinition<unknown>;
      readonly handler: EventHandler<unknown>;
    }
  | {
      readonly kind: 'batch';
      readonly definition: EventDefinition<unknown>;
      readonly handler: EventBatchHandler<unknown>;
    };

interface ReadyEvent {
  readonly kind: 'ready';
  readonly message: KafkaMessage;
  /** Position in its kafkajs batch. */
  readonly index: number;
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

/** What read-ahead holds of one partition, and the worker applying it. */
class HeldPartition {
  readonly window = new ReadAheadWindow<ReadyEvent>();
  worker: Promise<void> | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    /** The worker of the same partition's window before a rebalance: this one starts after it. */
    readonly previous: Promise<void> | undefined,
  ) {}
}

/** About what a message holds in memory: its key, value and headers. */
function messageBytes(message: KafkaMessage): number {
  let bytes = (message.key?.length ?? 0) + (message.value?.length ?? 0);
  const headers = message.headers;
  if (!headers) return bytes;
  for (const name in headers) {
    const value = headers[name];
    bytes += name.length;
    if (Array.isArray(value)) for (const v of value) bytes += v.length;
    else if (value !== undefined) bytes += value.length;
  }
  return bytes;
}

const noHeartbeat = (): Promise<void> => Promise.resolve();

class ConsumerStoppingError extends Error {
  constructor() {
    super('consumer is stopping; the event will be redelivered');
    this.name = 'ConsumerStoppingError';
  }
}

const tracer = trace.getTracer('@tenantry/events');

/** Batches carry many traces: each event's parent is the publisher's span from its headers. */
function producerContext(metadata: EventMetadata): Context {
  return contextFromCarrier(
    { traceparent: metadata.traceparent, tracestate: metadata.tracestate },
    context.active(),
  );
}

function readyEvent(
  message: KafkaMessage,
  index: number,
  metadata: EventMetadata,
  registration: Registration,
  data: unknown,
): ReadyEvent {
  return { kind: 'ready', message, index, metadata, registration, envelope: { ...metadata, data } };
}

function decodeFailure(metadata: EventMetadata, error: unknown): Prepared {
  // An unreachable registry is not the event's fault: never dead-letter it for that.
  if (isTransientFailure(error)) return { kind: 'transient', error: error as Error };
  return {
    kind: 'poison',
    metadata,
    error: new PoisonEventError(`payload cannot be decoded: ${(error as Error).message}`, {
      cause: error,
    }),
  };
}

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
  private dlqProducerConnected = false;
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
  /** Read-ahead: what is held of each partition (see `readAheadBytes`). */
  private readonly held = new Map<string, HeldPartition>();
  /** Workers of windows dropped by a rebalance, until they have finished their round. */
  private readonly retiring = new Map<string, Promise<void>>();
  /** When the running kafkajs consumer crashed (cleared when it has joined its group again). */
  private crashedAt: number | undefined;
  private restartAttempts = 0;
  private restartTimer: NodeJS.Timeout | undefined;

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
    return this.register({
      kind: 'each',
      definition: definition as EventDefinition<unknown>,
      handler: handler as EventHandler<unknown>,
    });
  }

  /**
   * Registers a handler that gets many events of one type at once (before `start`): the run of
   * consecutive fresh events of that type in a tenant group, or a single event when the group
   * fell back to one event per transaction. It runs in its tenant's context with this consumer
   * as the (service) actor; each envelope carries its own actor and ids, and each event still
   * gets its own consumer span, a child of its producer's.
   */
  onBatch<T>(definition: EventDefinition<T>, handler: EventBatchHandler<T>): this {
    return this.register({
      kind: 'batch',
      definition: definition as EventDefinition<unknown>,
      handler: handler as EventBatchHandler<unknown>,
    });
  }

  private register(registration: Registration): this {
    if (this.consumer) throw new Error('register handlers before starting the consumer');
    const { type } = registration.definition;
    if (this.registrations.has(type)) {
      throw new Error(`${type} already has a handler in ${this.options.name}`);
    }
    this.registrations.set(type, registration);
    return this;
  }

  get topics(): string[] {
    return [...new Set([...this.registrations.values()].map((r) => r.definition.topic))];
  }

  async start(): Promise<void> {
    if (this.registrations.size === 0) throw new Error(`${this.options.name} has no handlers`);
    this.stopping = false;
    this.dlqProducer = this.createDlqProducer();
    await this.dlqProducer.connect();
    this.dlqProducerConnected = true;
    await this.runConsumer();
  }

  /** False while a crashed consumer waits to be restarted (kafkajs' restart or the inbox's). */
  get running(): boolean {
    return this.consumer !== undefined && this.crashedAt === undefined;
  }

  private async runConsumer(): Promise<void> {
    const consumer = this.options.kafka.consumer({
      groupId: this.options.name,
      allowAutoTopicCreation: false,
      ...(this.options.maxBytesPerPartition === undefined
        ? {}
        : { maxBytesPerPartition: this.options.maxBytesPerPartition }),
      ...(this.options.maxBytes === undefined ? {} : { maxBytes: this.options.maxBytes }),
      // After a retriable crash kafkajs disconnects, asks this, then arms its restart timer. A
      // `stop()` that ran during that disconnect came too early to clear the timer, and the
      // restart would run a consumer nobody stops (seen once: a test run that never exited).
      retry: { retries: 5, restartOnFailure: () => Promise.resolve(!this.stopping) },
    });
    this.consumer = consumer;
    // A new assignment starts from the committed offsets: forget the old one's state.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.forgetPartitions();
      if (this.crashedAt !== undefined) {
        this.logger.info('consumer rejoined its group after a crash', {
          consumer: this.options.name,
          down_ms: Date.now() - this.crashedAt,
        });
      }
      this.crashedAt = undefined;
      this.restartAttempts = 0;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.stopping || consumer !== this.consumer) return;
      this.crashedAt ??= Date.now();
      this.faults?.crashes.inc({
        consumer: this.options.name,
        restarted_by: payload.restart ? 'kafkajs' : 'inbox',
      });
      // kafkajs restarts the consumer after a retriable crash (broker unreachable, retries
      // exhausted) and stops it for good after any other (a protocol error, an exception out of
      // a batch): then the inbox starts a fresh one, or the consumer would be silently dead.
      if (payload.restart) return;
      this.scheduleRestart(payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: this.topics,
      fromBeginning: this.options.fromBeginning ?? true,
    });
    const readsAhead = this.readsAhead;
    await consumer.run({
      // Read-ahead resolves (fetches) past what is settled, so it commits the settled prefix itself.
      autoCommit: !readsAhead,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => (readsAhead ? this.readAhead(payload) : this.handleBatch(payload)),
    });
  }

  /**
   * Replaces a consumer kafkajs gave up on with a new one, with the outage backoff between
   * attempts. The new one resumes from the committed offsets; what the old one handled but had
   * not committed is met again and skipped by the inbox.
   */
  private scheduleRestart(error: unknown): void {
    if (this.restartTimer) return;
    this.restartAttempts += 1;
    const backoff = this.options.outageBackoff ?? DEFAULT_OUTAGE_BACKOFF;
    const delay = retryDelayMs(
      { attempts: Number.POSITIVE_INFINITY, ...backoff },
      this.restartAttempts,
    );
    this.logger.error('consumer crashed and kafkajs will not restart it; restarting it', {
      err: error,
      consumer: this.options.name,
      attempt: this.restartAttempts,
      retry_in_ms: delay,
    });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.restart();
    }, delay);
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    const crashed = this.consumer;
    await crashed?.disconnect().catch(() => undefined);
    if (this.stopping || crashed !== this.consumer) return;
    try {
      await this.runConsumer();
    } catch (error) {
      if (!this.stopping) this.scheduleRestart(error);
    }
  }

  /** Finishes the message in hand (or abandons its retries, leaving it uncommitted), then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.crashedAt = undefined;
    // Read-ahead workers finish their round and commit it while the consumer still runs.
    await Promise.allSettled([...this.held.values()].map((held) => held.worker));
    this.forgetPartitions();
    this.outageSince = undefined;
    await this.consumer?.disconnect().catch(() => undefined);
    await this.dlqProducer?.disconnect().catch(() => undefined);
    this.consumer = undefined;
    this.dlqProducer = undefined;
    this.dlqProducerConnected = false;
  }

  private record(outcome: InboxOutcome, metadata: EventMetadata | undefined): void {
    this.countOutcome(outcome);
    this.options.onOutcome?.(outcome, metadata);
  }

  private countOutcome(outcome: InboxOutcome, count = 1): void {
    this.options.metrics?.inboxProcessedTotal.inc({ consumer: this.options.name, outcome }, count);
  }

  /**
   * A fetched batch of one partition: its events are grouped by tenant and the groups run in
   * rounds (tenant-rounds.ts), one transaction each, so one tenant's burst holds another tenant's
   * events back by at most one group. After each group the offset moves to the last event before
   * which everything is settled; a transient failure pauses the partition at the first unsettled
   * event.
   */
  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = payload.batch;
    if (!payload.isRunning() || payload.isStale()) return;
    const fetchedAt = Date.now();
    const key = partitionKey(topic, partition);
    const alreadySettled = this.settledAhead.get(key);
    const settled = new Uint8Array(messages.length);
    const ready: ReadyEvent[] = [];
    let stoppedAt: ChunkPause | undefined;
    for (let index = 0; index < messages.length; index += 1) {
      const message = messages[index] as KafkaMessage;
      if (alreadySettled?.has(message.offset)) {
        settled[index] = 1;
        continue;
      }
      const preparing = this.prepare(message, index);
      // Only a decoder cache miss (the registry is asked) needs an await.
      const prepared = preparing instanceof Promise ? await preparing : preparing;
      if (prepared.kind === 'transient') {
        // The registry is down: the events before this one go through, this one waits.
        stoppedAt = { offset: message.offset, error: prepared.error };
        break;
      } else if (prepared.kind === 'ignored') {
        this.record('ignored', prepared.metadata);
        settled[index] = 1;
      } else if (prepared.kind === 'poison') {
        await this.deadLetter(topic, partition, message, prepared.error, 1, prepared.metadata);
        settled[index] = 1;
      } else {
        ready.push(prepared);
      }
    }

    let frontier = 0;
    let resolved = 0;
    /** Resolves the offset up to the first unsettled event; true when it moved. */
    const advance = (): boolean => {
      while (frontier < messages.length && settled[frontier] === 1) frontier += 1;
      if (frontier === resolved) return false;
      resolved = frontier;
      const offset = (messages[frontier - 1] as KafkaMessage).offset;
      payload.resolveOffset(offset);
      this.forgetSettled(topic, partition, offset);
      return true;
    };
    /** Settled events past the frontier: skipped when the partition is fetched again. */
    const rememberAhead = (): void => {
      const ahead = this.settledAhead.get(key) ?? new Set<string>();
      for (let index = frontier + 1; index < messages.length; index += 1) {
        if (settled[index] === 1) ahead.add((messages[index] as KafkaMessage).offset);
      }
      if (ahead.size > 0) this.settledAhead.set(key, ahead);
    };
    const pause = async (error: Error): Promise<void> => {
      advance();
      rememberAhead();
      await payload.commitOffsetsIfNecessary();
      const offset = (messages[frontier] as KafkaMessage).offset;
      // Returning with the failed event unresolved makes the next fetch start from it.
      await this.backOff(topic, partition, { offset, error }, payload);
    };

    const groupSize = this.options.maxEventsPerTransaction ?? 500;
    const limit = Math.max(1, this.options.tenantGroupsConcurrently ?? 2);
    // Groups in flight by tenant: never two of one tenant, so its order holds.
    const inFlight = new Map<string, Promise<void>>();
    let failure: Error | undefined;
    let thrown: { error: unknown } | undefined;
    let interrupted = false;
    const settle = (event: ReadyEvent): void => {
      settled[event.index] = 1;
    };
    for (const group of tenantRounds(ready, (event) => event.metadata.tenantid, groupSize)) {
      const tenant = (group[0] as ReadyEvent).metadata.tenantid;
      await inFlight.get(tenant);
      while (inFlight.size >= limit) await Promise.race(inFlight.values());
      if (failure || thrown) break;
      if (!payload.isRunning() || payload.isStale()) {
        interrupted = true;
        break;
      }
      const running = this.handleGroup(topic, partition, group, payload.heartbeat, settle)
        .then(async (transient) => {
          if (transient) {
            failure ??= transient;
            return;
          }
          if (advance()) {
            await payload.commitOffsetsIfNecessary();
            this.partitionRecovered(topic, partition);
          }
          await payload.heartbeat();
        })
        .catch((error: unknown) => {
          thrown ??= { error };
        })
        .finally(() => inFlight.delete(tenant));
      inFlight.set(tenant, running);
    }
    await Promise.all(inFlight.values());
    if (thrown) {
      advance();
      rememberAhead();
      throw thrown.error;
    }
    if (failure) return pause(failure);
    if (interrupted) {
      advance();
      rememberAhead();
      return;
    }
    if (stoppedAt) return pause(stoppedAt.error);
    if (advance()) this.partitionRecovered(topic, partition);
    if (frontier === messages.length && messages.length > 0) {
      this.options.onBatchSettled?.({
        topic,
        partition,
        size: messages.length,
        firstOffset: (messages[0] as KafkaMessage).offset,
        lastOffset: (messages[messages.length - 1] as KafkaMessage).offset,
        durationMs: Date.now() - fetchedAt,
      });
    }
  }

  private get readsAhead(): boolean {
    return (this.options.readAheadBytes ?? 0) > 0;
  }

  private heldBytes(): number {
    let bytes = 0;
    for (const held of this.held.values()) bytes += held.window.bytes;
    return bytes;
  }

  /**
   * Read-ahead's eachBatch: the batch joins what is held of its partition (decoded; ignored and
   * undecodable events settled at once), the fetch position moves past it, and the partition's
   * worker applies what is held. Returns at once unless more than `readAheadBytes` is held: then
   * it waits (heartbeating) for the workers to catch up, which holds the next fetch.
   */
  private async readAhead(payload: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = payload.batch;
    if (!payload.isRunning() || payload.isStale() || this.stopping) return;
    // A worker failed and this consumer is being replaced: its fetch position is past what it
    // held and dropped, so a window started now would commit past those events. Take nothing.
    if (this.crashedAt !== undefined) return;
    const key = partitionKey(topic, partition);
    let held = this.held.get(key);
    if (!held) {
      held = new HeldPartition(topic, partition, this.retiring.get(key));
      this.held.set(key, held);
    }
    const { window } = held;
    const fetchedAt = Date.now();
    let first: string | undefined;
    let size = 0;
    const markBatch = (): void => {
      if (first !== undefined) window.markBatch(first, size, fetchedAt);
      if (window.lastOffset !== undefined) payload.resolveOffset(window.lastOffset);
      this.wake(held as HeldPartition);
    };
    for (const message of messages) {
      if (window.has(message.offset)) continue;
      const seq = window.nextSeq;
      const preparing = this.prepare(message, seq);
      const prepared = preparing instanceof Promise ? await preparing : preparing;
      if (window.closed) return;
      if (prepared.kind === 'transient') {
        // The registry is down: what came before goes on, the next fetch starts at this event.
        markBatch();
        await this.backOff(
          topic,
          partition,
          { offset: message.offset, error: prepared.error },
          payload,
        );
        return;
      }
      const bytes = messageBytes(message);
      if (prepared.kind === 'ready') {
        window.add(message.offset, bytes, { event: prepared, tenant: prepared.metadata.tenantid });
      } else {
        if (prepared.kind === 'ignored') this.record('ignored', prepared.metadata);
        else await this.deadLetter(topic, partition, message, prepared.error, 1, prepared.metadata);
        window.add(message.offset, bytes);
      }
      first ??= message.offset;
      size += 1;
    }
    markBatch();
    const budget = this.options.readAheadBytes ?? 0;
    while (
      this.heldBytes() > budget &&
      payload.isRunning() &&
      !payload.isStale() &&
      !this.stopping &&
      !window.closed
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      await payload.heartbeat();
    }
  }

  /** Starts the partition's worker unless it runs. */
  private wake(held: HeldPartition): void {
    if (held.worker || held.window.closed) return;
    held.worker = (async () => {
      await held.previous;
      await this.work(held);
    })()
      .catch((error: unknown) => this.workerFailed(held, error))
      .finally(() => {
        held.worker = undefined;
        // Events may have come in after its last look.
        if (held.window.pending > 0 && !held.window.closed && !this.stopping) this.wake(held);
      });
  }

  /**
   * Applies what is held of one partition, a round at a time (one group of each tenant with
   * events pending, tenantGroupsConcurrently at once), committing the settled prefix after each
   * round. Events fetched meanwhile join the next round. A dependency that is down holds the
   * partition with the outage backoff, then the same events are tried again.
   */
  private async work(held: HeldPartition): Promise<void> {
    const { window, topic, partition } = held;
    const groupSize = this.options.maxEventsPerTransaction ?? 500;
    const limit = Math.max(1, this.options.tenantGroupsConcurrently ?? 2);
    const open = { isRunning: () => !window.closed && !this.stopping, heartbeat: noHeartbeat };
    for (;;) {
      await this.commitSettled(held);
      if (!open.isRunning() || window.pending === 0) return;
      const groups = window.round(groupSize);
      const failure = await this.runRound(held, groups, limit);
      if (failure) {
        await this.commitSettled(held);
        const offset = (groups[0]?.[0] as ReadyEvent | undefined)?.message.offset ?? '';
        await this.backOff(topic, partition, { offset, error: failure }, open);
      }
    }
  }

  /** One round's groups, `limit` at a time; the transient failure that stopped one, if any. */
  private async runRound(
    held: HeldPartition,
    groups: readonly ReadyEvent[][],
    limit: number,
  ): Promise<Error | undefined> {
    const { window, topic, partition } = held;
    const settle = (event: ReadyEvent): void => window.settle(event.index, event.metadata.tenantid);
    let next = 0;
    let failure: Error | undefined;
    const lane = async (): Promise<void> => {
      while (next < groups.length && !failure && !window.closed && !this.stopping) {
        const group = groups[next] as ReadyEvent[];
        next += 1;
        const transient = await this.handleGroup(topic, partition, group, noHeartbeat, settle);
        failure ??= transient;
      }
    };
    const lanes = await Promise.allSettled(
      Array.from({ length: Math.min(limit, groups.length) }, lane),
    );
    const rejected = lanes.find(
      (lane): lane is PromiseRejectedResult => lane.status === 'rejected',
    );
    if (rejected) throw rejected.reason;
    return failure;
  }

  /** Moves the partition's settled prefix and commits it (the next offset after it). */
  private async commitSettled(held: HeldPartition): Promise<void> {
    const { window, topic, partition } = held;
    const { offset, batches } = window.advance(Date.now());
    for (const batch of batches) this.options.onBatchSettled?.({ topic, partition, ...batch });
    if (offset === undefined || window.closed) return;
    this.partitionRecovered(topic, partition);
    try {
      await this.consumer?.commitOffsets([
        { topic, partition, offset: (BigInt(offset) + 1n).toString() },
      ]);
    } catch (error) {
      // The next round's commit carries it; until then a restart refetches and the inbox skips.
      this.logger.warn('offset commit failed; it is retried after the next round', {
        err: error,
        consumer: this.options.name,
        topic,
        partition,
        offset,
      });
    }
  }

  /**
   * A worker hit something else than a dependency being down (a dead-letter send that failed):
   * as when an exception leaves a kafkajs batch, the consumer is restarted from the committed
   * offsets, with nothing held.
   */
  private workerFailed(held: HeldPartition, error: unknown): void {
    if (this.stopping || held.window.closed || error instanceof ConsumerStoppingError) return;
    this.crashedAt ??= Date.now();
    this.faults?.crashes.inc({ consumer: this.options.name, restarted_by: 'inbox' });
    this.forgetPartitions();
    this.scheduleRestart(error);
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
    payload: Pick<EachBatchPayload, 'isRunning' | 'heartbeat'>,
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
    for (const [key, held] of this.held) {
      held.window.closed = true;
      const worker = held.worker;
      if (!worker) continue;
      this.retiring.set(key, worker);
      void worker.finally(() => {
        if (this.retiring.get(key) === worker) this.retiring.delete(key);
      });
    }
    this.held.clear();
    this.faults?.paused.set({ consumer: this.options.name }, 0);
  }

  private forgetSettled(topic: string, partition: number, upTo: string): void {
    const key = partitionKey(topic, partition);
    const settled = this.settledAhead.get(key);
    if (!settled) return;
    for (const offset of settled) if (BigInt(offset) <= BigInt(upTo)) settled.delete(offset);
    if (settled.size === 0) this.settledAhead.delete(key);
  }

  /**
   * One tenant group in one transaction; if that fails for another reason than a dependency
   * being down, each event alone, with retries and the DLQ for the one that keeps failing.
   * Returns the transient failure that stopped it, if any (the events before it are settled).
   */
  private async handleGroup(
    topic: string,
    partition: number,
    group: readonly ReadyEvent[],
    heartbeat: () => Promise<void>,
    settle: (event: ReadyEvent) => void,
  ): Promise<Error | undefined> {
    try {
      const outcomes = await this.processGroup(group, { topic, partition });
      let processed = 0;
      group.forEach((event, i) => {
        const outcome = outcomes[i] ?? 'processed';
        // The counter is added to once per group, not once per event.
        if (outcome === 'processed') processed += 1;
        else this.countOutcome(outcome);
        this.options.onOutcome?.(outcome, event.metadata);
        settle(event);
      });
      if (processed > 0) this.countOutcome('processed', processed);
      return undefined;
    } catch (error) {
      // The database (or another dependency) is down: no point trying each event alone.
      if (isTransientFailure(error)) return error as Error;
    }
    for (const event of group) {
      try {
        await this.handleAlone(topic, partition, event, heartbeat);
        settle(event);
      } catch (aloneError) {
        if (!(aloneError instanceof TransientFailure)) throw aloneError;
        return aloneError.failure;
      }
    }
    return undefined;
  }

  /**
   * Envelope, handler and payload of one message, or why it cannot be handled at all. Synchronous
   * when the payload's decoder is cached, so a batch costs no promise per event.
   */
  private prepare(message: KafkaMessage, index: number): Prepared | Promise<Prepared> {
    let metadata: EventMetadata | undefined;
    try {
      metadata = metadataFromHeaders(message.headers);
      const registration = this.registrations.get(metadata.type);
      if (!registration) return { kind: 'ignored', metadata };
      const value = message.value;
      if (!value) throw new PoisonEventError('event has no payload');
      const known = metadata;
      let cached: { data: unknown } | undefined;
      try {
        cached = this.options.codec.decodeAsIfCached(registration.definition, value);
      } catch (error) {
        return decodeFailure(known, error);
      }
      if (cached) return readyEvent(message, index, known, registration, cached.data);
      return this.options.codec.decodeAs(registration.definition, value).then(
        (data) => readyEvent(message, index, known, registration, data),
        (error: unknown) => decodeFailure(known, error),
      );
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
        const [outcome] = await this.processGroup([event], { topic, partition });
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
   * One tenant transaction: claims every event of the group in the inbox with one statement, then
   * runs the handlers of the events that were not there yet, in order. Throws (rolling everything
   * back) if any handler throws.
   */
  private async processGroup(
    group: readonly ReadyEvent[],
    source: EventBatchSource,
  ): Promise<InboxOutcome[]> {
    const tenantId = (group[0] as ReadyEvent).metadata.tenantid;
    return withTenant(this.options.dataSource, tenantId, async (tx) => {
      const fresh = await claimInboxRows(tx, this.options.name, group);
      const outcomes: InboxOutcome[] = [];
      let run: ReadyEvent[] = [];
      const flush = async (): Promise<void> => {
        if (run.length === 0) return;
        const events = run;
        run = [];
        await this.runBatchHandler(events, tx, source);
      };
      for (const event of group) {
        // The same event twice in one batch: only its first copy is new.
        if (!fresh.delete(event.metadata.id)) {
          outcomes.push('duplicate');
          continue;
        }
        outcomes.push('processed');
        if (event.registration.kind === 'batch') {
          // A batch handler gets the consecutive events of its type; anything else ends the run.
          if (run.length > 0 && run[0]?.registration !== event.registration) await flush();
          run.push(event);
          continue;
        }
        await flush();
        await this.runHandler(event, event.registration.handler, tx);
      }
      await flush();
      return outcomes;
    });
  }

  private spanAttributes(metadata: EventMetadata, topic: string): Attributes {
    return {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': topic,
      'messaging.consumer.group.name': this.options.name,
      'messaging.message.id': metadata.id,
      'cloudevents.event_type': metadata.type,
      'tenant.id': metadata.tenantid,
      'actor.type': metadata.actortype,
      'actor.id': metadata.actorid,
      // The request that caused the event: find every hop of it by one search.
      'request.id': metadata.correlationid,
    };
  }

  private runHandler(
    event: ReadyEvent,
    handler: EventHandler<unknown>,
    tx: TenantTransaction,
  ): Promise<void> {
    const { metadata, envelope, registration } = event;
    const { topic } = registration.definition;
    const tenantContext = {
      tenantId: metadata.tenantid,
      actor: { type: metadata.actortype, id: metadata.actorid },
      requestId: metadata.correlationid,
      correlationId: metadata.correlationid,
      causationId: metadata.id,
    };
    return runWithTenantContext(tenantContext, () =>
      // OpenTelemetry messaging conventions: `{operation} {destination}`; the event type is the
      // `cloudevents.event_type` attribute.
      tracer.startActiveSpan(
        `process ${topic}`,
        { kind: SpanKind.CONSUMER, attributes: this.spanAttributes(metadata, topic) },
        producerContext(metadata),
        async (span) => {
          try {
            await handler(envelope, tx);
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

  /**
   * A batch handler call: one consumer span per event, each a child of its producer's span (as
   * with `on`), and a batch span linked to them that is active while the handler runs.
   */
  private async runBatchHandler(
    events: readonly ReadyEvent[],
    tx: TenantTransaction,
    source: EventBatchSource,
  ): Promise<void> {
    const first = events[0] as ReadyEvent;
    const { registration, metadata } = first;
    if (registration.kind !== 'batch') throw new Error('not a batch handler');
    const { topic } = registration.definition;
    const batchSpan = tracer.startSpan(`process ${topic}`, {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': topic,
        'messaging.consumer.group.name': this.options.name,
        'messaging.batch.message_count': events.length,
        'cloudevents.event_type': metadata.type,
        'tenant.id': metadata.tenantid,
      },
    });
    const batchLink = [{ context: batchSpan.spanContext() }];
    const spans = events.map((event) => {
      const span = tracer.startSpan(
        `process ${topic}`,
        { kind: SpanKind.CONSUMER, links: batchLink },
        producerContext(event.metadata),
      );
      // Most events are sampled out (or tracing is off): their attributes are never built.
      if (span.isRecording()) span.setAttributes(this.spanAttributes(event.metadata, topic));
      return span;
    });
    const tenantContext = {
      tenantId: metadata.tenantid,
      actor: { type: 'service' as const, id: this.options.name },
      requestId: metadata.id,
    };
    try {
      await context.with(trace.setSpan(context.active(), batchSpan), () =>
        runWithTenantContext(tenantContext, () =>
          registration.handler(
            events.map((event) => event.envelope),
            tx,
            source,
          ),
        ),
      );
    } catch (error) {
      for (const span of [batchSpan, ...spans]) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      }
      throw error;
    } finally {
      for (const span of spans) span.end();
      batchSpan.end();
    }
  }

  private createDlqProducer(): Producer {
    return this.options.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  }

  /**
   * A fresh DLQ producer after a failed send: kafkajs keeps an idempotent producer's sequence
   * numbers across reconnects, so one whose ack was lost can be refused with
   * OUT_OF_ORDER_SEQUENCE_NUMBER for good (see OutboxRelay's disconnectProducer).
   */
  private async renewDlqProducer(failed: Producer): Promise<void> {
    if (this.dlqProducer !== failed) return;
    this.dlqProducerConnected = false;
    this.dlqProducer = this.stopping ? undefined : this.createDlqProducer();
    await failed.disconnect().catch(() => undefined);
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
    try {
      if (!this.dlqProducerConnected) {
        await producer.connect();
        this.dlqProducerConnected = true;
      }
      await sendToDeadLetterTopic(producer, {
        topic,
        partition,
        message,
        consumer: this.options.name,
        error,
        attempts,
      });
    } catch (sendError) {
      await this.renewDlqProducer(producer);
      throw sendError;
    }
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
