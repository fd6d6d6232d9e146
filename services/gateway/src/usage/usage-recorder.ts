import type { DataSource } from 'typeorm';
import type { ApiCallCompleted } from '@tenantry/contracts';
import { ApiCallCompletedEvent } from '@tenantry/contracts';
import { withTenant } from '@tenantry/db';
import type { Outbox } from '@tenantry/events';
import { runWithTenantContext } from '@tenantry/tenancy';
import type { ActorType } from '@tenantry/tenancy';

/** The flush's own context; every event names the call it records instead (`recordedFor`). */
const USAGE_RECORDER_ACTOR = { type: 'service', id: 'gateway' } as const;

export interface UsageRecorderLog {
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface UsageRecorderOptions {
  readonly dataSource: DataSource;
  readonly outbox: Outbox;
  readonly flushIntervalMs: number;
  /** A flush starts early once this many calls are buffered. */
  readonly flushMaxRows: number;
  /** While the database is unreachable calls stay buffered up to this many; the oldest go first. */
  readonly maxBufferedRows: number;
  readonly log: UsageRecorderLog;
  readonly onDropped?: (count: number) => void;
  readonly onWritten?: (count: number) => void;
}

/**
 * Turns completed API calls into `gateway.api-call.completed` events for billing.
 *
 * Delivery guarantee: **at-least-once from the outbox on, at-most-once before it.** Calls are
 * buffered in memory and written to the gateway's outbox every `flushIntervalMs` (or every
 * `flushMaxRows` calls), one transaction per tenant per flush; from there the outbox relay
 * publishes with an idempotent producer and re-sends until Kafka acknowledges, and consumers
 * de-duplicate by event id in their inbox. A crash of the gateway process loses the calls
 * buffered since the last flush (at most ~`flushIntervalMs` of traffic); a long database outage
 * drops the oldest calls beyond `maxBufferedRows` (counted in `gateway_usage_dropped_total`).
 *
 * Why not one transaction per call, in the request: the gateway owns no state change to commit
 * the event with, so a synchronous write would only add a database round trip to every API
 * call's latency and make the API unavailable whenever the gateway's database is. Usage feeds
 * aggregated billing, where losing a fraction of a second of calls on a crash is an accepted,
 * bounded error; losing none would need the write on the request path.
 */
export class UsageRecorder {
  private buffer: ApiCallCompleted[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: UsageRecorderOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  /** Buffers one completed call; never blocks and never throws on the request path. */
  record(call: ApiCallCompleted): void {
    if (this.stopped) return;
    this.buffer.push(call);
    const excess = this.buffer.length - this.options.maxBufferedRows;
    if (excess > 0) {
      this.buffer.splice(0, excess);
      this.options.onDropped?.(excess);
    }
    if (this.buffer.length >= this.options.flushMaxRows && !this.flushing) void this.flush();
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** Writes what is buffered; one flush runs at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.writeBuffered().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Stops the timer and writes what is left (graceful shutdown keeps the last calls). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }

  private async writeBuffered(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.options.flushMaxRows);
      const byTenant = new Map<string, ApiCallCompleted[]>();
      for (const call of batch) {
        const calls = byTenant.get(call.tenantId) ?? [];
        calls.push(call);
        byTenant.set(call.tenantId, calls);
      }
      const failed: ApiCallCompleted[] = [];
      for (const [tenantId, calls] of byTenant) {
        try {
          await this.writeTenant(tenantId, calls);
          this.options.onWritten?.(calls.length);
        } catch (error) {
          failed.push(...calls);
          this.options.log.warn('usage events could not be written; keeping them buffered', {
            err: error,
            tenant: tenantId,
            count: calls.length,
          });
        }
      }
      if (failed.length > 0) {
        // Back to the front, in order; the next tick retries them.
        this.buffer.unshift(...failed);
        const excess = this.buffer.length - this.options.maxBufferedRows;
        if (excess > 0) {
          this.buffer.splice(0, excess);
          this.options.onDropped?.(excess);
        }
        return;
      }
    }
  }

  private writeTenant(tenantId: string, calls: readonly ApiCallCompleted[]): Promise<void> {
    // One multi-row outbox insert per tenant and flush: each event still carries its own call's
    // actor and request id (correlation), through `recordedFor`. One statement per call instead
    // was the gateway's largest CPU item after the HTTP work itself (bench/README.md, profile).
    return runWithTenantContext(
      { tenantId, actor: USAGE_RECORDER_ACTOR, requestId: `usage-flush:${tenantId}` },
      () =>
        withTenant(this.options.dataSource, tenantId, async (tx) => {
          await this.options.outbox.publishMany(
            tx,
            ApiCallCompletedEvent,
            calls.map((call) => ({
              subject: call.requestId,
              data: call,
              recordedFor: {
                actor: { type: call.actorType as ActorType, id: call.actorId },
                requestId: call.requestId,
              },
            })),
          );
        }),
    );
  }
}
