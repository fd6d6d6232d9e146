import { randomUUID } from 'node:crypto';
import fc from 'fast-check';

/** One operation of the merged OpenAPI document the gateway serves. */
export interface DocumentedOperation {
  readonly method: string;
  /** OpenAPI path, e.g. `/v1/members/{userId}`. */
  readonly path: string;
  readonly permission: string | undefined;
  readonly pathParams: readonly string[];
  readonly queryParams: readonly string[];
  /** Top-level schema of the JSON request body, when the operation takes one. */
  readonly bodySchema: JsonSchema | undefined;
}

export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly format?: string;
  readonly enum?: readonly unknown[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
}

/** A request as sent on the wire: the path is already percent-encoded, the body raw bytes. */
export interface HostileRequest {
  readonly class: string;
  readonly method: string;
  readonly pathAndQuery: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

type Operation = Record<string, unknown> & {
  'x-permission'?: string;
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
};

/** Every operation of the document, with what a request to it can carry. */
export function operationsOf(document: {
  paths: Record<string, Record<string, Operation>>;
}): DocumentedOperation[] {
  const operations: DocumentedOperation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'put', 'post', 'patch', 'delete']) {
      const operation = item[method];
      if (!operation) continue;
      const parameters = operation.parameters ?? [];
      operations.push({
        method: method.toUpperCase(),
        path,
        permission: operation['x-permission'],
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: parameters.filter((p) => p.in === 'query').map((p) => p.name),
        bodySchema: operation.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  return operations;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * Percent-encodes every UTF-16 code unit sequence as UTF-8, lone surrogates included (as the
 * three bytes a careless encoder would emit), which `encodeURIComponent` refuses to do.
 */
export function percentEncode(text: string): string {
  let out = '';
  for (const character of text) {
    if (UNRESERVED.test(character)) {
      out += character;
      continue;
    }
    const point = character.codePointAt(0) ?? 0;
    const bytes =
      point < 0x80
        ? [point]
        : point < 0x800
          ? [0xc0 | (point >> 6), 0x80 | (point & 0x3f)]
          : point < 0x10000
            ? [0xe0 | (point >> 12), 0x80 | ((point >> 6) & 0x3f), 0x80 | (point & 0x3f)]
            : [
                0xf0 | (point >> 18),
                0x80 | ((point >> 12) & 0x3f),
                0x80 | ((point >> 6) & 0x3f),
                0x80 | (point & 0x3f),
              ];
    out += bytes.map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
  }
  return out;
}

/** Malformed or unstorable path segments, already as they go on the wire. */
export const MALFORMED_ENCODINGS: readonly string[] = [
  '%zz',
  '%',
  'a%2',
  '%e0%80%af', // overlong UTF-8 for '/'
  '%c0%80', // overlong NUL
  '%ff%fe',
  '%00',
  'a%00b',
  '%ed%a0%80', // a lone high surrogate, as CESU-8
  '%ed%bf%bf', // a lone low surrogate
];

/** Numbers no column or counter should take, as raw JSON or query text. */
const HUGE_NUMBERS: readonly string[] = [
  '99999999999999999999999999999',
  '-99999999999999999999999999999',
  '9223372036854775808',
  '1e400',
  '-1e400',
  '1e-400',
  '-0',
  '4294967296',
  '0.0000000000000000000000001',
];

const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udfff', '\udc00\ud800', 'ok\u0000'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('\u0000', '\ud800', '\udc00', 'a', '%', '/'), maxLength: 12 }),
  fc.constantFrom(...HUGE_NUMBERS),
  fc.constant('x'.repeat(5000)),
);

const pathSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...MALFORMED_ENCODINGS),
  hostileText.map(percentEncode),
  fc.constantFrom(randomUUID(), 'fuzz', ...HUGE_NUMBERS.map(percentEncode)),
);

/** A JSON text that no serializer would emit: raw huge numbers, lone surrogates, deep nesting. */
type RawJson = { readonly raw: string };

function deepNesting(depth: number): RawJson {
  return { raw: '['.repeat(depth) + ']'.repeat(depth) };
}

const hostileJsonValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileText,
  fc.constantFrom(...HUGE_NUMBERS).map((raw): RawJson => ({ raw })),
  fc.constantFrom(null, true, false, 0, -1, 1.5, [], {}, [null], { '\u0000': 1 }, ['\ud800']),
  fc.integer({ min: 65, max: 8000 }).map(deepNesting),
  fc.jsonValue({ maxDepth: 3 }),
);

/** JSON text of `value`, where `{ raw }` members are spliced in verbatim. */
function jsonText(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, member: unknown) => {
    if (typeof member === 'object' && member !== null && 'raw' in member) {
      raws.push((member as RawJson).raw);
      return `__raw_${raws.length - 1}__`;
    }
    return member;
  });
  return text.replace(/"__raw_(\d+)__"/g, (_match, index: string) => raws[Number(index)] ?? '');
}

/** A value the schema accepts, so one hostile field is judged on its own. */
function plausible(schema: JsonSchema | undefined): unknown {
  if (!schema) return 'fuzz';
  if (schema.enum && schema.enum.length > 0) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      if (schema.format === 'email') return `fuzz-${randomUUID()}@example.test`;
      if (schema.format === 'uuid') return randomUUID();
      if (schema.format === 'date-time') return new Date().toISOString();
      return 'fuzz value';
  }
}

function bodyArbitrary(schema: JsonSchema): fc.Arbitrary<string> {
  const names = Object.keys(schema.properties ?? {});
  const base = Object.fromEntries(
    names.map((name) => [name, plausible(schema.properties?.[name])]),
  );
  if (names.length === 0) return hostileJsonValue.map((value) => jsonText({ value }));
  return fc
    .record({
      spoiled: fc.subarray(names, { minLength: 1, maxLength: Math.min(3, names.length) }),
      values: fc.array(hostileJsonValue, { minLength: 3, maxLength: 3 }),
      extra: fc.option(fc.tuple(hostileText, hostileJsonValue), { nil: undefined }),
    })
    .map(({ spoiled, values, extra }) => {
      const body: Record<string, unknown> = { ...base };
      spoiled.forEach((name, index) => (body[name] = values[index]));
      if (extra) body[extra[0]] = extra[1];
      return jsonText(body);
    });
}

function queryArbitrary(names: readonly string[]): fc.Arbitrary<string> {
  const value = fc.oneof(
    hostileText.map(percentEncode),
    fc.constantFrom(...MALFORMED_ENCODINGS, ...HUGE_NUMBERS),
    // A cursor decoded and rewritten to a number no page can start after.
    fc
      .constantFrom('99999999999999999999', '9223372036854775808', '0', '-1', '1e9')
      .map((id) => Buffer.from(`a:${id}`).toString('base64url')),
  );
  const keys = [...names, 'unexpected'];
  return fc
    .array(fc.tuple(fc.constantFrom(...keys), value), { minLength: 1, maxLength: 4 })
    .map((pairs) => pairs.map(([key, v]) => `${key}=${v}`).join('&'));
}

function pathOf(operation: DocumentedOperation, segments: Readonly<Record<string, string>>) {
  return operation.path.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => segments[name] ?? '');
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * Hostile requests for one operation: every fixed case found by hand (each malformed encoding in
 * each path parameter, 6,000-deep JSON, a gzip header on a plain body, NUL in the query, a
 * rewritten paging cursor), then `runs` generated
 * ones mixing malformed path segments, unstorable text, wrong types and huge numbers.
 */
export function hostileRequests(
  operation: DocumentedOperation,
  { seed, runs }: { seed: number; runs: number },
): HostileRequest[] {
  const { method } = operation;
  const plain = Object.fromEntries(operation.pathParams.map((name) => [name, 'fuzz']));
  const requests: HostileRequest[] = [];
  const validBody = operation.bodySchema
    ? jsonText(
        Object.fromEntries(
          Object.entries(operation.bodySchema.properties ?? {}).map(([name, schema]) => [
            name,
            plausible(schema),
          ]),
        ),
      )
    : undefined;
  const withBody = (body: string | undefined) =>
    body === undefined ? {} : { body: Buffer.from(body), headers: JSON_HEADERS };

  for (const name of operation.pathParams) {
    for (const segment of MALFORMED_ENCODINGS) {
      requests.push({
        class: `path parameter ${name}=${segment}`,
        method,
        pathAndQuery: pathOf(operation, { ...plain, [name]: segment }),
        headers: {},
        ...withBody(validBody),
      });
    }
  }
  if (operation.bodySchema) {
    const deep = jsonText({ nested: deepNesting(6000) });
    requests.push({
      class: 'JSON nested 6,000 levels',
      method,
      pathAndQuery: pathOf(operation, plain),
      headers: JSON_HEADERS,
      body: Buffer.from(deep),
    });
    requests.push({
      class: 'content-encoding gzip on a plain body',
      method,
      pathAndQuery: pathOf(operation, plain),
      headers: { ...JSON_HEADERS, 'content-encoding': 'gzip' },
      body: Buffer.from(validBody ?? '{}'),
    });
  }
  if (operation.queryParams.includes('cursor')) {
    // A paging cursor decoded and rewritten to an id beyond what the column can hold.
    for (const id of ['9223372036854775808', '9999999999999999999']) {
      requests.push({
        class: `cursor rewritten to ${id}`,
        method,
        pathAndQuery: `${pathOf(operation, plain)}?cursor=${Buffer.from(`a:${id}`).toString('base64url')}`,
        headers: {},
      });
    }
  }
  requests.push({
    class: 'NUL in the query',
    method,
    pathAndQuery: `${pathOf(operation, plain)}?${operation.queryParams[0] ?? 'q'}=a%00b`,
    headers: {},
    ...withBody(validBody),
  });

  const generated = fc.record({
    segments: fc.record(
      Object.fromEntries(operation.pathParams.map((name) => [name, pathSegment])),
    ),
    query: fc.option(queryArbitrary(operation.queryParams), { nil: undefined }),
    body: operation.bodySchema
      ? fc.option(bodyArbitrary(operation.bodySchema), { nil: undefined, freq: 4 })
      : fc.constant(undefined),
    encoding: fc.constantFrom(undefined, undefined, undefined, 'gzip', 'deflate', 'br'),
  });
  for (const input of fc.sample(generated, { seed, numRuns: runs })) {
    const body = input.body ?? validBody;
    requests.push({
      class: 'generated',
      method,
      pathAndQuery: pathOf(operation, input.segments) + (input.query ? `?${input.query}` : ''),
      headers: {
        ...(body === undefined ? {} : JSON_HEADERS),
        ...(body !== undefined && input.encoding ? { 'content-encoding': input.encoding } : {}),
      },
      ...(body === undefined ? {} : { body: Buffer.from(body) }),
    });
  }
  return requests;
}
