import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { QueryFailedError } from 'typeorm';
import {
  SchemaRegistryUnavailableError,
  UndecodableEventError,
  UnknownSchemaError,
} from '../schema/decode-errors';
import { classifyFailure } from './failure-classifier';

function withCode(code: string, message = 'failed'): Error {
  return Object.assign(new Error(message), { code });
}

function pgError(code: string): QueryFailedError {
  return new QueryFailedError('SELECT 1', [], withCode(code, `sqlstate ${code}`));
}

// What @kafkajs/confluent-schema-registry throws (its mappersmith ResponseError).
function registryResponse(status: number, message: string): Error {
  return Object.assign(new Error(`tenantry - ${message}`), { name: 'ResponseError', status });
}

describe('classifyFailure', () => {
  it.each([
    ['connection refused', withCode('ECONNREFUSED')],
    ['connection reset', withCode('ECONNRESET')],
    ['socket timeout', withCode('ETIMEDOUT')],
    ['PostgreSQL connection failure (08006)', pgError('08006')],
    ['PostgreSQL cannot connect now (57P03)', pgError('57P03')],
    ['PostgreSQL admin shutdown (57P01)', pgError('57P01')],
    ['PostgreSQL crash shutdown (57P02)', pgError('57P02')],
    ['serialization failure (40001)', pgError('40001')],
    ['deadlock (40P01)', pgError('40P01')],
    ['too many connections (53300)', pgError('53300')],
    ['pg connection lost', new Error('Connection terminated unexpectedly')],
    ['pg pool timeout', new Error('timeout exceeded when trying to connect')],
    ['registry unreachable', registryResponse(400, 'Error, status 400: connect ECONNREFUSED')],
    ['registry timeout', registryResponse(400, 'Error, status 400: Timeout (5000ms)')],
    ['registry 503', registryResponse(503, 'Service Unavailable')],
    ['registry 500', registryResponse(500, 'Internal Server Error')],
    ['registry 429', registryResponse(429, 'Too Many Requests')],
    ['typed registry outage', new SchemaRegistryUnavailableError(7, { cause: new Error('down') })],
    ['KafkaJS connection error', new KafkaJSConnectionError('Connection error')],
    [
      'KafkaJS retriable protocol error',
      // Its typings take only a message; at runtime it reads the protocol error's fields.
      new KafkaJSProtocolError({
        message: 'not leader',
        type: 'NOT_LEADER_FOR_PARTITION',
        code: 6,
        retriable: true,
      } as unknown as Error),
    ],
    [
      'transient cause wrapped in a plain error',
      new Error('handler failed', { cause: withCode('ECONNRESET') }),
    ],
  ])('%s is transient', (_name, error) => {
    expect(classifyFailure(error)).toBe('transient');
  });

  it.each([
    ['bad magic byte', new UndecodableEventError('value is not in the Confluent wire format')],
    ['unknown schema id', new UnknownSchemaError(42, { cause: new Error('404') })],
    ['Avro decode error', new UndecodableEventError('truncated buffer', { cause: new Error('x') })],
    ['registry 404', registryResponse(404, 'Schema 42 not found.')],
    ['registry 422', registryResponse(422, 'Invalid schema')],
    ['unique violation (23505)', pgError('23505')],
    ['check violation (23514)', pgError('23514')],
    ['handler bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['business refusal', new Error('order cannot be recorded')],
    ['KafkaJS non-retriable', new KafkaJSNonRetriableError('bad')],
    ['not an error', 'a string'],
    ['nothing', undefined],
  ])('%s is permanent', (_name, error) => {
    expect(classifyFailure(error)).toBe('permanent');
  });

  it('lets an explicit verdict win over a transient-looking cause', () => {
    const error = new UndecodableEventError('bad body', { cause: withCode('ECONNRESET') });
    expect(classifyFailure(error)).toBe('permanent');
  });

  it('survives a cyclic cause chain', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.assign(a, { cause: b });
    expect(classifyFailure(a)).toBe('permanent');
  });
});
