import type { QueryResult } from 'pg';
import type { TenantTransaction } from '@tenantry/db';
import type { EventMetadata } from '../envelope/event-envelope';

/** The part of a node-postgres client a named (prepared) statement needs. */
interface PreparingClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<QueryResult>;
}

function isPreparingClient(connection: unknown): connection is PreparingClient {
  return (
    typeof connection === 'object' &&
    connection !== null &&
    typeof (connection as { query?: unknown }).query === 'function' &&
    // node-postgres clients have a wire connection; TypeORM's other drivers do not.
    typeof (connection as { connection?: unknown }).connection === 'object'
  );
}

/** Statement text by row count: the consumer and the tenant are sent once, ids and types per row. */
const statements: string[] = [];

function claimStatement(rows: number): string {
  let text = statements[rows];
  if (!text) {
    const values: string[] = [];
    for (let i = 0; i < rows; i += 1) values.push(`($1, $${i * 2 + 3}, $${i * 2 + 4}, $2)`);
    text =
      `INSERT INTO event_inbox (consumer, event_id, event_type, tenant_id) VALUES ` +
      `${values.join(', ')} ON CONFLICT DO NOTHING RETURNING event_id`;
    statements[rows] = text;
  }
  return text;
}

/**
 * Records a tenant group's events in the inbox with one multi-row insert and returns the ids that
 * were not there yet (a redelivered event is left out; an id twice in the group is in it once).
 * The statement is prepared once per connection and row count (a named statement), so a busy
 * consumer does not have PostgreSQL parse and plan a 100-row insert per transaction.
 */
export async function claimInboxRows(
  tx: TenantTransaction,
  consumer: string,
  events: readonly { readonly metadata: EventMetadata }[],
): Promise<Set<string>> {
  const text = claimStatement(events.length);
  const values: string[] = [consumer, tx.tenantId];
  for (const { metadata } of events) values.push(metadata.id, metadata.type);
  // The transaction's own connection, so the rows commit (or roll back) with the handlers' writes.
  const connection: unknown = await tx.manager.queryRunner?.connect();
  let rows: { event_id: string }[];
  if (isPreparingClient(connection)) {
    const result = await connection.query({
      name: `tenantry_inbox_claim_${events.length}`,
      text,
      values,
    });
    rows = result.rows as { event_id: string }[];
  } else {
    rows = await tx.manager.query(text, values);
  }
  return new Set(rows.map((row) => row.event_id));
}
