import { HttpProblem } from '@tenantry/http';
import { decodeAuditCursor, encodeAuditCursor } from './audit-log-cursor';

const rewritten = (id: string): string => Buffer.from(`a:${id}`, 'utf8').toString('base64url');

function refusal(cursor: string): unknown {
  try {
    decodeAuditCursor(cursor);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('audit log cursor', () => {
  it('round-trips the ids the API hands out, up to the largest bigint', () => {
    expect(decodeAuditCursor(encodeAuditCursor('42'))).toBe('42');
    expect(decodeAuditCursor(encodeAuditCursor('9223372036854775807'))).toBe('9223372036854775807');
  });

  it.each([
    ['beyond bigint', rewritten('9223372036854775808')],
    ['nineteen nines', rewritten('9999999999999999999')],
    ['zero', rewritten('0')],
    ['not a cursor', 'bm9wZQ'],
    ['not base64url', '%%%'],
  ])('refuses a rewritten cursor (%s) with a 400', (_name, cursor) => {
    const error = refusal(cursor);
    expect(error).toBeInstanceOf(HttpProblem);
    expect((error as HttpProblem).status).toBe(400);
  });
});
