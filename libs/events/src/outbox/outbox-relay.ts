import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { Kafka, Message, Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { Client } from 'pg';
import type { ClientConfig } from 'pg';
import type { PlatformMetrics } from '@tenantry/observability';
import type { EventsLogger } from '../kafka/events-logger';
import { silentLogger } from '../kafka/events-logger';
import { contextFromCarrier } from './trace-carrier';
import { classifyPublishFailure, describePublishFailure } from '../faults/failure-classifier';

export interface OutboxRelayOptions {
  readonly dataSource: DataSource;
  readonly kafka: Kafka;
  readonly logger?: EventsLogger;
  /** Rows per Kafka batch. */
  readonly batchSize?: number;
  /**
   * Batches per transaction while a backlog drains (default 8): the next batch is read while one
   * is sent, and a crash re-sends at most this many batches (consumers drop them by event id).
   */
  readonly batchesPerPass?: number;
  /**
   * Poll interval while the LISTEN connection is down (reconnecting) and while another relay
   * holds the lock (so a standby takes over promptly). While listening, NOTIFY wakes the relay.
   */
  readonly pollIntervalMs?: number;
  /** While listening, a pass still runs this often: cleanup, the backlog gauge, a lost wake-up. */
  readonly listeningPollMs?: number;
  /** Permanent broker refusals of one row before it is set aside (ADR 0009). */
  readonly maxRefusals?: number;
  /** `application_name` of the dedicated LISTEN connection, to find it in pg_stat_activity. */
  readonly listenerApplicationName?: string;
  /** Longest wait between retries while Kafka is unreachable. */
  readonly maxBackoffMs?: number;
  /** Published rows older than this are deleted. */
  readonly retainPublishedMs?: number;
  /** Called after each batch is published, with its size. */
  readonly onPublished?: (count: number) => void;
  /** Published counts per topic and the backlog go here when given. */
  readonly metrics?: PlatformMetrics;
}

interface PendingRow {
  seq: string;
  id: string;
  topic: string;
  tenant_id: string;
  refusals: number;
  partition_key: string;
  event_type: string;
  headers: Record<string, string>;
  value: Buffer;
}

// One relay publishes a database's outbox at a time: that keeps the order per key even with
// several replicas running (the others wait on the lock and take over if it dies).
const RELAY_LOCK_SQL = `SELECT pg_try_advisory_xact_lock(hashtext('tenantry.event_outbox.relay')) AS locked`;

const tracer = trace.getTracer('@tenantry/events');

/** What one pass over the outbox did; metrics and logs for set-aside rows wait for its commit. */
interface PassResult {
  /** Rows the pass read (a full batch means more may be waiting). */
  scanned: number;
  published: number;
  lockedElsewhere: boolean;
  setAside: { row: PendingRow; error: string }[];
  /** A row was refused but not yet set aside: retry the pass after this delay. */
  retryInMs: number;
  /** Kafka is unreachable or unhealthy: back off, set nothing aside. */
  transient?: unknown;
}

const emptyPass = (lockedElsewhere = false): PassResult => ({
  scanned: 0,
  published: 0,
  lockedElsewhere,
  setAside: [],
  retryInMs: 0,
});

/**
 * Publishes committed outbox rows to Kafka in commit order with an idempotent producer
 * (acks=all), then marks them published. At-least-once: a crash between Kafka's ack and the
 * mark re-sends the batch, which consumers drop by event id in their inbox.
 *
 * Faults (ADR 0009): a transient failure (broker down, leader moving, timeout) backs off and
 * retries without limit. A batch the broker refuses for good (MESSAGE_TOO_LARGE, INVALID_RECORD...)
 * is re-sent row by row so one poison row cannot block the others; each refusal is recorded in
 * `attempts`/`last_error`, and after `maxRefusals` the row is set aside (`set_aside_at`, a metric,
 * a warn log) and stays in the table for `retrySetAside`. Per-key order: until the row is set
 * aside, the rows behind it with the same key wait; after, they are published, so that key's
 * stream has exactly one gap, the set-aside event.
 *
 * Wake-ups: a dedicated pg connection (not a pooled one) LISTENs; when it drops, the relay polls
 * every `pollIntervalMs` while it reconnects with backoff, and re-LISTENs.
 */
export class OutboxRelay {
  private readonly logger: EventsLogger;
  private readonly batchSize: number;
  private readonly batchesPerPass: number;
  private readonly pollIntervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly retainPublishedMs: number;
  private readonly listeningPollMs: number;
  private readonly maxRefusals: number;
  private readonly listenerApplicationName: string;
  private producer: Producer | undefined;
  /** Connected lazily inside a pass, so a broker that refuses the connection is recorded on rows. */
  private producerConnected = false;
  private listener: Client | undefined;
  private listenerFailures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** A NOTIFY arrived while a batch was in hand: look again before sleeping. */
  private notified = false;
  /** False while backing off from a Kafka failure, so new rows do not cut the backoff short. */
  private wakeOnNotify = true;
  private lastCleanup = 0;
  /** When the oldest waiting row was written, as last read (undefined: none waited). */
  private oldestPendingAt: number | undefined;
  private lastReport = 0;

  constructor(private readonly options: OutboxRelayOptions) {
    this.logger = options.logger ?? silentLogger;
    this.batchSize = options.batchSize ?? 500;
    this.batchesPerPass = Math.max(1, options.batchesPerPass ?? 8);
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.retainPublishedMs = options.retainPublishedMs ?? 60 * 60 * 1000;
    this.listeningPollMs = options.listeningPollMs ?? 60_000;
    this.maxRefusals = Math.max(1, options.maxRefusals ?? 3);
    this.listenerApplicationName = options.listenerApplicationName ?? 'tenantry-outbox-relay';
  }

  /** True while the dedicated LISTEN connection is up. */
  get listening(): boolean {
    return this.listener !== undefined;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.producer = this.createProducer();
    await this.listen();
    this.loop = this.run();
  }

  /** Finishes the batch in hand, then stops. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.unlisten();
    await this.disconnectProducer();
  }

  /** Rows written but not yet published, set-aside rows excluded (they no longer wait). */
  async backlog(): Promise<number> {
    const [row] = await this.options.dataSource.query(
      `SELECT count(*)::int AS n FROM event_outbox WHERE published_at IS NULL AND set_aside_at IS NULL`,
    );
    return (row as { n: number }).n;
  }

  /** Backlog size and the age of its oldest row, for the gauges (an SRE's "is it stuck?"). */
  private async reportBacklog(): Promise<void> {
    const metrics = this.options.metrics;
    if (!metrics) return;
    const [row] = await this.options.dataSource.query(
      `SELECT count(*)::int AS n,
         coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest
       FROM event_outbox WHERE published_at IS NULL AND set_aside_at IS NULL`,
    );
    const { n, oldest } = row as { n: number; oldest: number };
    this.lastReport = Date.now();
    metrics.outboxBacklog.set(n);
    metrics.outboxOldestAgeSeconds.set(Math.max(0, oldest));
    this.oldestPendingAt = n > 0 ? Date.now() - Math.max(0, oldest) * 1000 : undefined;
  }

  /**
   * The database cannot be asked: the rows it last reported are still waiting (nothing can be
   * marked published without it), so their age keeps growing from what was last known, and an
   * "outbox stuck" alert still fires during a database outage. The backlog keeps its last value.
   */
  private reportBacklogUnknown(): void {
    if (this.oldestPendingAt === undefined) return;
    this.options.metrics?.outboxOldestAgeSeconds.set((Date.now() - this.oldestPendingAt) / 1000);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        const pass = await this.publishPass();
        this.reportSetAside(pass.setAside);
        if (pass.transient !== undefined) throw pass.transient;
        if (failures > 0) this.logger.info('outbox relay recovered', { failures });
        failures = 0;
        if (pass.scanned === this.batchSize && pass.retryInMs === 0) {
          // Draining a long backlog: keep the gauges fresh (every 5 s) without a query per batch.
          if (Date.now() - this.lastReport >= 5000) await this.reportBacklog();
          continue;
        }
        await this.cleanup();
        await this.reportBacklog();
        if (pass.retryInMs > 0) await this.sleep(pass.retryInMs, false);
        else
          await this.sleep(
            this.listening && !pass.lockedElsewhere ? this.listeningPollMs : this.pollIntervalMs,
          );
      } catch (error) {
        failures += 1;
        await this.reportBacklog().catch(() => this.reportBacklogUnknown());
        await this.disconnectProducer();
        const delay = Math.min(this.maxBackoffMs, 200 * 2 ** Math.min(failures, 10));
        this.logger.warn('outbox relay could not publish; retrying', {
          err: error,
          failures,
          retry_in_ms: delay,
        });
        await this.sleep(delay, false);
      }
    }
  }

  /** Publishes one batch; returns how many rows it published (0 when another relay holds it). */
  async publishBatch(): Promise<number> {
    const pass = await this.publishPass(1);
    this.reportSetAside(pass.setAside);
    if (pass.transient !== undefined) throw pass.transient;
    return pass.published;
  }

  /**
   * One transaction holding the relay lock: up to `maxBatches` batches in commit order. While
   * Kafka has one batch, the next is read (this relay holds the lock, so nobody else reads), and
   * the batch before is marked published while the next is sent: the database's round trips
   * overlap the sends instead of adding to them. Sends stay one at a time, in `seq` order. Any
   * outcome but a clean send ends the pass where it is (what was sent is marked), so refusals and
   * outages are handled on one batch, as before.
   */
  private async publishPass(maxBatches = this.batchesPerPass): Promise<PassResult> {
    this.notified = false;
    const producer = this.producer;
    if (!producer) throw new Error('outbox relay is not started');
    return this.options.dataSource.transaction(async (manager) => {
      const [lock] = await manager.query(RELAY_LOCK_SQL);
      if (!(lock as { locked: boolean }).locked) return emptyPass(true);
      const query = (sql: string, params: unknown[]): Promise<unknown> =>
        manager.query(sql, params);
      let rows = await this.readPending(query, undefined);
      if (rows.length === 0) return emptyPass();
      // A broker that is down refuses the connection before any send: that is a failed attempt
      // for every row of the batch too, recorded like a failed send (attempts, last_error).
      const connectError = await this.connectProducer(producer);
      if (connectError !== undefined) {
        await this.recordFailure(query, rows, connectError);
        return { ...emptyPass(), scanned: rows.length, transient: connectError };
      }
      const pass = emptyPass();
      let marking: Promise<void> = Promise.resolve();
      for (let batch = 1; ; batch += 1) {
        pass.scanned = rows.length;
        const readNext =
          batch < maxBatches && rows.length === this.batchSize
            ? this.readPending(query, rows[rows.length - 1]?.seq)
            : Promise.resolve([]);
        // Settled together, so no rejection is left unobserved when one of them fails.
        const [sent, next, marked] = await Promise.allSettled([
          this.send(producer, rows),
          readNext,
          marking,
        ]);
        if (marked.status === 'rejected') throw marked.reason;
        if (sent.status === 'rejected') throw sent.reason;
        const batchError = sent.value;
        if (batchError !== undefined) {
          if (classifyPublishFailure(batchError) === 'transient') {
            await this.recordFailure(query, rows, batchError);
            return { ...pass, transient: batchError };
          }
          // The broker refused the batch for good: find the row(s) it refuses, let the others go.
          const byRow = await this.publishRowByRow(query, producer, rows);
          return { ...byRow, scanned: rows.length, published: pass.published + byRow.published };
        }
        pass.published += rows.length;
        if (next.status === 'rejected') throw next.reason;
        const sentRows = rows;
        marking = this.markPublished(query, sentRows);
        if (next.value.length === 0) break;
        rows = next.value;
      }
      await marking;
      return pass;
    });
  }

  /** Waiting rows in commit order, after `afterSeq` when given (the batch still being sent). */
  private async readPending(
    query: (sql: string, params: unknown[]) => Promise<unknown>,
    afterSeq: string | undefined,
  ): Promise<PendingRow[]> {
    return (await query(
      `SELECT seq, id, topic, partition_key, event_type, tenant_id, headers, value, refusals
       FROM event_outbox WHERE published_at IS NULL AND set_aside_at IS NULL
         AND ($2::bigint IS NULL OR seq > $2::bigint)
       ORDER BY seq LIMIT $1`,
      [this.batchSize, afterSeq ?? null],
    )) as PendingRow[];
  }

  private async publishRowByRow(
    query: (sql: string, params: unknown[]) => Promise<unknown>,
    producer: Producer,
    rows: readonly PendingRow[],
  ): Promise<PassResult> {
    const result = emptyPass();
    const published: PendingRow[] = [];
    // Keys whose refused row is still waiting for another attempt: their later rows wait too,
    // so the key's order breaks only once the row is set aside (ADR 0009).
    const blocked = new Set<string>();
    for (const row of rows) {
      const key = `${row.topic}\u0000${row.partition_key}`;
      if (blocked.has(key)) continue;
      const error = await this.send(producer, [row]);
      if (error === undefined) {
        published.push(row);
        continue;
      }
      if (classifyPublishFailure(error) === 'transient') {
        await this.recordFailure(query, [row], error);
        result.transient = error;
        break;
      }
      const refusals = Number(row.refusals) + 1;
      const setAside = refusals >= this.maxRefusals;
      const description = describePublishFailure(error);
      await query(
        `UPDATE event_outbox SET attempts = attempts + 1, refusals = $2, last_error = $3,
           set_aside_at = CASE WHEN $4::boolean THEN now() END
         WHERE seq = $1`,
        [row.seq, refusals, description, setAside],
      );
      if (setAside) {
        result.setAside.push({ row, error: description });
      } else {
        blocked.add(key);
        const delay = Math.min(this.maxBackoffMs, 200 * 2 ** Math.min(refusals, 10));
        result.retryInMs = Math.max(result.retryInMs, delay);
        this.logger.warn('outbox row refused by the broker; will retry before setting it aside', {
          event_id: row.id,
          event_type: row.event_type,
          tenant_id: row.tenant_id,
          topic: row.topic,
          refusals,
          max_refusals: this.maxRefusals,
          error: description,
        });
      }
    }
    await this.markPublished(query, published);
    result.published = published.length;
    return result;
  }

  /** Connects the producer unless it is; returns the error instead of throwing it. */
  private async connectProducer(producer: Producer): Promise<unknown> {
    if (this.producerConnected) return undefined;
    try {
      await producer.connect();
      this.producerConnected = true;
      return undefined;
    } catch (error) {
      return error ?? new Error('connecting to Kafka failed');
    }
  }

  private createProducer(): Producer {
    return this.options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
  }

  /**
   * Drops the producer after a failure and, while running, takes a fresh one. kafkajs keeps an
   * idempotent producer's id and sequence numbers across disconnect/connect; when the broker
   * appended a batch whose ack was lost (a broker killed mid-request, a timeout) and the relay
   * re-sends a different batch from the same sequence, the broker answers
   * OUT_OF_ORDER_SEQUENCE_NUMBER to that producer forever. A fresh producer gets a fresh producer
   * id; what it re-sends is at-least-once, dropped by event id in the consumers' inboxes.
   */
  private async disconnectProducer(): Promise<void> {
    this.producerConnected = false;
    const producer = this.producer;
    this.producer = this.running ? this.createProducer() : undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  /** Sends rows in one request; returns the error instead of throwing it. */
  private async send(producer: Producer, rows: readonly PendingRow[]): Promise<unknown> {
    const spans: Span[] = [];
    const byTopic = new Map<string, Message[]>();
    for (const row of rows) {
      const { headers, span } = this.startPublishSpan(row);
      spans.push(span);
      const messages = byTopic.get(row.topic) ?? [];
      messages.push({ key: row.partition_key, value: row.value, headers });
      byTopic.set(row.topic, messages);
    }
    try {
      // The per-event publish spans above carry the trace; the kafkajs instrumentation's own
      // batch-level spans would replace each event's traceparent with the relay's, so they are
      // suppressed for this call.
      await context.with(suppressTracing(context.active()), () =>
        producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        }),
      );
    } catch (error) {
      for (const span of spans) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        span.end();
      }
      return error ?? new Error('publish failed');
    }
    for (const span of spans) span.end();
    return undefined;
  }

  private async markPublished(
    query: (sql: string, params: unknown[]) => Promise<unknown>,
    rows: readonly PendingRow[],
  ): Promise<void> {
    if (rows.length === 0) return;
    await query(
      `UPDATE event_outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL
       WHERE seq = ANY($1::bigint[])`,
      [rows.map((row) => row.seq)],
    );
    this.options.onPublished?.(rows.length);
    const perTopic = new Map<string, number>();
    for (const row of rows) perTopic.set(row.topic, (perTopic.get(row.topic) ?? 0) + 1);
    for (const [topic, count] of perTopic) {
      this.options.metrics?.outboxPublishedTotal.inc({ topic }, count);
    }
  }

  /** A transient failure: recorded for the operator, never counted towards setting aside. */
  private async recordFailure(
    query: (sql: string, params: unknown[]) => Promise<unknown>,
    rows: readonly PendingRow[],
    error: unknown,
  ): Promise<void> {
    await query(
      `UPDATE event_outbox SET attempts = attempts + 1, last_error = $2 WHERE seq = ANY($1::bigint[])`,
      [rows.map((row) => row.seq), describePublishFailure(error)],
    );
  }

  private reportSetAside(setAside: PassResult['setAside']): void {
    for (const { row, error } of setAside) {
      this.options.metrics?.outboxSetAsideTotal.inc({ topic: row.topic });
      this.logger.warn('outbox row set aside: the broker refuses it for good', {
        event_id: row.id,
        event_type: row.event_type,
        tenant_id: row.tenant_id,
        topic: row.topic,
        partition_key: row.partition_key,
        error,
      });
    }
  }

  private startPublishSpan(row: PendingRow): { headers: Record<string, string>; span: Span } {
    const parent = contextFromCarrier(
      { traceparent: row.headers.traceparent, tracestate: row.headers.tracestate },
      context.active(),
    );
    const span = tracer.startSpan(
      `publish ${row.topic}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'send',
          'messaging.destination.name': row.topic,
          'messaging.message.id': row.headers.ce_id,
          'messaging.kafka.message.key': row.partition_key,
          'cloudevents.event_type': row.event_type,
          'tenant.id': row.headers.ce_tenantid,
          'actor.type': row.headers.ce_actortype,
          'actor.id': row.headers.ce_actorid,
        },
      },
      parent,
    );
    const headers = { ...row.headers };
    delete headers.traceparent;
    delete headers.tracestate;
    propagation.inject(trace.setSpan(parent, span), headers);
    return { headers, span };
  }

  private async cleanup(): Promise<void> {
    const now = Date.now();
    if (now - this.lastCleanup < 60_000) return;
    this.lastCleanup = now;
    await this.options.dataSource.query(
      `DELETE FROM event_outbox WHERE published_at < now() - ($1::text || ' milliseconds')::interval`,
      [String(this.retainPublishedMs)],
    );
  }

  /**
   * Opens the dedicated LISTEN connection. A pooled connection would be handed back to the pool
   * or silently replaced; this one is ours, so its loss is seen and repaired.
   */
  private async listen(): Promise<void> {
    if (!this.running) return;
    const client = new Client({
      ...this.connectionConfig(),
      application_name: this.listenerApplicationName,
    });
    let lost = false;
    const onLost = (error: unknown): void => {
      if (lost) return;
      lost = true;
      if (this.listener === client) this.listener = undefined;
      client.end().catch(() => undefined);
      if (!this.running) return;
      this.listenerFailures += 1;
      const delay = Math.min(this.maxBackoffMs, 100 * 2 ** Math.min(this.listenerFailures - 1, 10));
      this.logger.warn('outbox listener lost; polling until it is back', {
        err: error,
        failures: this.listenerFailures,
        retry_in_ms: delay,
      });
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        void this.listen();
      }, delay);
      // Switch to polling now rather than sleeping out a long listening interval.
      this.poke();
    };
    client.on('error', onLost);
    client.on('end', () => onLost(new Error('outbox listener connection ended')));
    client.on('notification', () => this.poke());
    try {
      await client.connect();
      await client.query('LISTEN event_outbox');
    } catch (error) {
      onLost(error);
      return;
    }
    if (lost) return;
    if (!this.running) {
      lost = true;
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
    if (this.listenerFailures > 0) {
      this.logger.info('outbox listener back; polling stops', { failures: this.listenerFailures });
    }
    this.listenerFailures = 0;
    // Rows committed while nobody listened notified no one: look once now.
    this.poke();
  }

  private poke(): void {
    this.notified = true;
    if (this.wakeOnNotify) this.wake?.();
  }

  /** The pool's own settings (URL, credentials, TLS), reused for the one dedicated client. */
  private connectionConfig(): ClientConfig {
    const driver = this.options.dataSource.driver as unknown as {
      master?: { options?: ClientConfig };
    };
    const options = { ...(driver.master?.options ?? {}) } as ClientConfig & { max?: unknown };
    delete options.max;
    return options;
  }

  private async unlisten(): Promise<void> {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const client = this.listener;
    this.listener = undefined;
    await client?.end().catch(() => undefined);
  }

  private sleep(ms: number, wakeOnNotify = true): Promise<void> {
    this.wakeOnNotify = wakeOnNotify;
    if ((wakeOnNotify && this.notified) || !this.running) {
      this.notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        this.notified = false;
        done();
      };
    });
  }
}
