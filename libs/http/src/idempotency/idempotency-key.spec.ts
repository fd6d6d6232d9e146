import { parseIdempotencyKey } from './idempotency-key';

describe('parseIdempotencyKey', () => {
  it('is absent without the header', () => {
    expect(parseIdempotencyKey(undefined)).toEqual({ kind: 'absent' });
  });

  it('takes a bare key of 1..255 visible ASCII characters', () => {
    expect(parseIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324')).toEqual({
      kind: 'valid',
      key: '8e03978e-40d5-43e8-bc93-6894a57f9324',
    });
    expect(parseIdempotencyKey('a')).toEqual({ kind: 'valid', key: 'a' });
    expect(parseIdempotencyKey('~!#$%&*+/=?^_`{|}')).toMatchObject({ kind: 'valid' });
    expect(parseIdempotencyKey('x'.repeat(255))).toMatchObject({ kind: 'valid' });
  });

  it('reads the draft’s sf-string form as the same key', () => {
    expect(parseIdempotencyKey('"abc-123"')).toEqual({ kind: 'valid', key: 'abc-123' });
    expect(parseIdempotencyKey('"a\\"b\\\\c"')).toEqual({ kind: 'valid', key: 'a"b\\c' });
  });

  it.each([
    ['empty', ''],
    ['an empty sf-string', '""'],
    ['too long', 'x'.repeat(256)],
    ['a space', 'two words'],
    ['a space inside quotes', '"two words"'],
    ['a repeated header joined by node', 'k1, k2'],
    ['a tab', 'a\tb'],
    ['non-ASCII', 'clé'],
    ['a control character', 'a\u0000b'],
    ['DEL', 'a\u007fb'],
  ])('refuses %s', (_name, value) => {
    expect(parseIdempotencyKey(value)).toMatchObject({ kind: 'invalid' });
  });

  it('refuses a header given as a list', () => {
    expect(parseIdempotencyKey(['a', 'b'])).toMatchObject({ kind: 'invalid' });
  });
});
