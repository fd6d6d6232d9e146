import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { Kafka, Message, Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { PoolClient } from 'pg';
import type { PlatformMetrics } from '@tenantry/observability';
import type { EventsLogger } from '../kafka/events-logger';
import { silentLogger } from '../kafka/events-logger';
import { contextFromCarrier } from './trace-carrier';

export interface OutboxRelayOptions {
  readonly dataSource: DataSource;
  readonly kafka: Kafka;
  readonly logger?: EventsLogger;
  /** Rows per Kafka batch. */
  readonly batchSize?: number;
  /** Fallback poll interval when no NOTIFY arrives. */
  readonly pollIntervalMs?: number;
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
  topic: string;
  partition_key: string;
  event_type: string;
  headers: Record<string, string>;
  value: Buffer;
}

// One relay publishes a database's outbox at a time: that keeps the order per key even with
// several replicas running (the others wait on the lock and take over if it dies).
const RELAY_LOCK_SQL = `SELECT pg_try_advisory_xact_lock(hashtext('tenantry.event_outbox.relay')) AS locked`;

const tracer = trace.getTracer('@tenantry/events');

/**
 * Publishes committed outbox rows to Kafka in commit order with an idempotent producer
 * (acks=all), then marks them published. At-least-once: a crash between Kafka's ack and the
 * mark re-sends the batch, which consumers drop by event id in their inbox.
 */
export class OutboxRelay {
  private readonly logger: EventsLogger;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly retainPublishedMs: number;
  private producer: Producer | undefined;
  private listener: PoolClient | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** A NOTIFY arrived while a batch was in hand: look again before sleeping. */
  private notified = false;
  /** False while backing off from a Kafka failure, so new rows do not cut the backoff short. */
  private wakeOnNotify = true;
  private lastCleanup = 0;

  constructor(private readonly options: OutboxRelayOptions) {
    this.logger = options.logger ?? silentLogger;
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.retainPublishedMs = options.retainPublishedMs ?? 60 * 60 * 1000;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.producer = this.options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
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
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }

  /** Rows written but not yet published. */
  async backlog(): Promise<number> {
    const [row] = await this.options.dataSource.query(
      `SELECT count(*)::int AS n FROM event_outbox WHERE published_at IS NULL`,
    );
    return (row as { n: number }).n;
  }

  private async run(): Promise<void> {
    let failures = 0;
    let connected = false;
    while (this.running) {
      try {
        if (!connected) {
          await this.producer?.connect();
          connected = true;
        }
        const published = await this.publishBatch();
        if (failures > 0) this.logger.info('outbox relay recovered', { failures });
        failures = 0;
        if (published === this.batchSize) continue;
        await this.cleanup();
        if (this.options.metrics) this.options.metrics.outboxBacklog.set(await this.backlog());
        await this.sleep(this.pollIntervalMs);
      } catch (error) {
        failures += 1;
        connected = false;
        if (this.options.metrics) {
          this.options.metrics.outboxBacklog.set(await this.backlog().catch(() => Number.NaN));
        }
        await this.producer?.disconnect().catch(() => undefined);
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
    this.notified = false;
    const producer = this.producer;
    if (!producer) throw new Error('outbox relay is not started');
    return this.options.dataSource.transaction(async (manager) => {
      const [lock] = await manager.query(RELAY_LOCK_SQL);
      if (!(lock as { locked: boolean }).locked) return 0;
      const rows: PendingRow[] = await manager.query(
        `SELECT seq, topic, partition_key, event_type, headers, value FROM event_outbox
         WHERE published_at IS NULL ORDER BY seq LIMIT $1`,
        [this.batchSize],
      );
      if (rows.length === 0) return 0;
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
        throw error;
      }
      for (const span of spans) span.end();
      await manager.query(
        `UPDATE event_outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL
         WHERE seq = ANY($1::bigint[])`,
        [rows.map((row) => row.seq)],
      );
      this.options.onPublished?.(rows.length);
      for (const [topic, messages] of byTopic) {
        this.options.metrics?.outboxPublishedTotal.inc({ topic }, messages.length);
      }
      return rows.length;
    });
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

  private async listen(): Promise<void> {
    try {
      const driver = this.options.dataSource.driver as unknown as {
        master: { connect(): Promise<PoolClient> };
      };
      const client = await driver.master.connect();
      client.on('notification', () => {
        this.notified = true;
        if (this.wakeOnNotify) this.wake?.();
      });
      client.on('error', (error) => this.logger.warn('outbox listener lost', { err: error }));
      await client.query('LISTEN event_outbox');
      this.listener = client;
    } catch (error) {
      // Polling still delivers everything; NOTIFY only makes it prompt.
      this.logger.warn('outbox relay could not LISTEN; polling only', { err: error });
    }
  }

  private async unlisten(): Promise<void> {
    const client = this.listener;
    this.listener = undefined;
    if (!client) return;
    try {
      await client.query('UNLISTEN event_outbox');
      client.release();
    } catch {
      client.release(true);
    }
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
