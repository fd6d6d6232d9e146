import { badRequest } from '@tenantry/http';

/** The largest audit entry id: the column is a PostgreSQL bigint. */
const MAX_ENTRY_ID = 2n ** 63n - 1n;

const invalidCursor = () => badRequest('The cursor is not one this API returned.');

/** Opaque to clients: the last id of the page, base64url. */
export function encodeAuditCursor(id: string): string {
  return Buffer.from(`a:${id}`, 'utf8').toString('base64url');
}

/**
 * The entry id a cursor names. A client can decode and rewrite it, so an id the bigint column
 * cannot hold is refused here (400) rather than by PostgreSQL in the query (500).
 */
export function decodeAuditCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^a:(\d{1,19})$/.exec(text);
  if (!match?.[1]) throw invalidCursor();
  const id = BigInt(match[1]);
  if (id < 1n || id > MAX_ENTRY_ID) throw invalidCursor();
  return id.toString();
}
