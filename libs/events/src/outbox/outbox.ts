import { randomUUID } from 'node:crypto';
import type { TenantTransaction } from '@tenantry/db';
import { requireTenantContext } from '@tenantry/tenancy';
import type { EventMetadata } from '../envelope/event-envelope';
import { metadataToHeaders } from '../envelope/event-envelope';
import type { EventCodec } from '../schema/event-codec';
import type { EventDefinition } from '../schema/event-definition';
import { captureTraceCarrier } from './trace-carrier';

export interface NewEvent<T> {
  /** The aggregate the event is about (CloudEvents `subject`), e.g. a user id. */
  readonly subject: string;
  readonly data: T;
  /** Kafka key; defaults to `<tenant>:<subject>` so one aggregate's events stay in order. */
  readonly key?: string;
}

export class TenantMismatchError extends Error {
  constructor(contextTenant: string, transactionTenant: string) {
    super(
      `event for tenant ${transactionTenant} written while acting for tenant ${contextTenant}; ` +
        `run the work inside the right tenant context`,
    );
    this.name = 'TenantMismatchError';
  }
}

/**
 * The only way to produce an event: it is encoded now (a payload that breaks its schema fails
 * the transaction, not the relay) and written in the caller's tenant transaction, so the state
 * change and its event commit or roll back together. Tenant, actor, correlation and trace come
 * from the current context; handlers never fill them by hand.
 */
export class Outbox {
  constructor(
    private readonly codec: EventCodec,
    /** CloudEvents `source`, e.g. `/services/identity`. */
    private readonly source: string,
  ) {}

  async publish<T>(
    tx: TenantTransaction,
    definition: EventDefinition<T>,
    event: NewEvent<T>,
  ): Promise<EventMetadata> {
    const [metadata] = await this.publishMany(tx, definition, [event]);
    return metadata as EventMetadata;
  }

  async publishMany<T>(
    tx: TenantTransaction,
    definition: EventDefinition<T>,
    events: readonly NewEvent<T>[],
  ): Promise<EventMetadata[]> {
    const context = requireTenantContext(`publishing ${definition.type}`);
    if (context.tenantId !== tx.tenantId)
      throw new TenantMismatchError(context.tenantId, tx.tenantId);
    const trace = captureTraceCarrier();
    const rows: unknown[][] = [];
    const written: EventMetadata[] = [];
    for (const event of events) {
      const metadata: EventMetadata = {
        id: randomUUID(),
        source: this.source,
        type: definition.type,
        specversion: '1.0',
        time: new Date().toISOString(),
        subject: event.subject,
        tenantid: tx.tenantId,
        actortype: context.actor.type,
        actorid: context.actor.id,
        correlationid: context.correlationId ?? context.requestId,
        ...(context.causationId ? { causationid: context.causationId } : {}),
        ...trace,
      };
      const value = await this.codec.encode(definition, event.data);
      const key = event.key ?? `${tx.tenantId}:${event.subject}`;
      rows.push([
        metadata.id,
        definition.topic,
        key,
        definition.type,
        tx.tenantId,
        metadataToHeaders(metadata),
        value,
      ]);
      written.push(metadata);
    }
    if (rows.length === 0) return written;
    const placeholders = rows
      .map(
        (_, i) =>
          `($${i * 7 + 1}, $${i * 7 + 2}, $${i * 7 + 3}, $${i * 7 + 4}, $${i * 7 + 5}, $${i * 7 + 6}, $${i * 7 + 7})`,
      )
      .join(', ');
    await tx.manager.query(
      `INSERT INTO event_outbox (id, topic, partition_key, event_type, tenant_id, headers, value)
       VALUES ${placeholders}`,
      rows.flat(),
    );
    return written;
  }
}
