/**
 * Opaque keyset cursors: the sort key of the last row a page returned, base64url-encoded. A
 * client only hands it back; a cursor that does not decode to the expected key is refused (400),
 * never guessed at.
 */
export type CursorKey = readonly (string | number)[];

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The key of a cursor with `length` parts, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string, length: number): CursorKey | undefined {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== length) return undefined;
  if (!parsed.every((part) => typeof part === 'string' || typeof part === 'number')) {
    return undefined;
  }
  return parsed as CursorKey;
}
