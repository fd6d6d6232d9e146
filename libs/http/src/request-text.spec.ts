import { HttpProblem } from './problem-details';
import {
  MAX_JSON_DEPTH,
  decodePathParam,
  inspectRequestValue,
  unsafeTextReason,
} from './request-text';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let level = 0; level < depth; level += 1) value = level % 2 ? [value] : { a: value };
  return value;
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('unsafeTextReason', () => {
  it.each([
    ['a\u0000b', 'nul'],
    ['\ud800', 'lone-surrogate'],
    ['x\udc00', 'lone-surrogate'],
    ['\udc00\ud800', 'lone-surrogate'],
  ])('refuses %j (%s)', (text, reason) => {
    expect(unsafeTextReason(text)).toBe(reason);
  });

  it.each(['', 'plain', 'Zoë', '日本', '\ud83d\ude00 emoji', 'tab\tnewline\n'])(
    'accepts %j',
    (text) => {
      expect(unsafeTextReason(text)).toBeUndefined();
    },
  );
});

describe('inspectRequestValue', () => {
  it('finds NUL or a lone surrogate in any string value or key, with its path', () => {
    expect(inspectRequestValue({ a: [1, { b: 'x\u0000' }] })).toEqual({
      kind: 'unsafe-text',
      path: 'a.1.b',
      reason: 'nul',
    });
    expect(inspectRequestValue({ ['k\ud800']: 1 })).toMatchObject({ reason: 'lone-surrogate' });
    expect(inspectRequestValue({ a: 'ok', b: [null, true, 1.5, 'fine'] })).toBeUndefined();
  });

  it(`allows ${MAX_JSON_DEPTH} levels of nesting and refuses one more`, () => {
    expect(inspectRequestValue(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(inspectRequestValue(nested(MAX_JSON_DEPTH + 1))).toEqual({ kind: 'too-deep' });
  });

  it('walks a hostile depth without overflowing the stack', () => {
    const deep = JSON.parse('['.repeat(200_000) + ']'.repeat(200_000)) as unknown;
    expect(inspectRequestValue(deep)).toEqual({ kind: 'too-deep' });
  });
});

describe('decodePathParam', () => {
  it('decodes well-formed percent-encoding', () => {
    expect(decodePathParam('caf%C3%A9%20x')).toBe('café x');
    expect(decodePathParam('%F0%9F%98%80')).toBe('\ud83d\ude00');
  });

  it.each(['%zz', '%', 'a%2', '%e0%80%af', '%c0%af', '%ed%a0%80', '%00', 'a%00b'])(
    'refuses %s with a 400 problem',
    (raw) => {
      const error = thrown(() => decodePathParam(raw));
      expect(error).toBeInstanceOf(HttpProblem);
      expect(error).toMatchObject({
        status: 400,
        type: 'https://tenantry.dev/problems/malformed-path-parameter',
      });
    },
  );
});
