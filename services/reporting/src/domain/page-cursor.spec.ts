import { decodeCursor, encodeCursor } from './page-cursor';

describe('page cursor', () => {
  it('round-trips its key', () => {
    const key = ['2026-03-01T00:00:00.000Z', 'user-1'];
    expect(decodeCursor(encodeCursor(key), 2)).toEqual(key);
  });

  it('refuses what it did not make', () => {
    expect(decodeCursor('not a cursor!', 2)).toBeUndefined();
    expect(decodeCursor(encodeCursor(['only-one']), 2)).toBeUndefined();
    expect(decodeCursor(Buffer.from('{"a":1}').toString('base64url'), 2)).toBeUndefined();
    expect(decodeCursor(Buffer.from('[1,').toString('base64url'), 2)).toBeUndefined();
    expect(decodeCursor(Buffer.from('[{},1]').toString('base64url'), 2)).toBeUndefined();
  });
});
