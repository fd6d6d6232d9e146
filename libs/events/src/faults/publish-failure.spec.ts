import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import { classifyPublishFailure, describePublishFailure } from './failure-classifier';

// The runtime constructors take more than kafkajs' type declarations admit.
const ProtocolError = KafkaJSProtocolError as unknown as new (e: {
  type: string;
  code: number;
  retriable: boolean;
  message: string;
}) => Error;
const NonRetriableError = KafkaJSNonRetriableError as unknown as new (
  e: Error,
  options: { cause: Error },
) => Error;

// kafkajs builds broker errors from the protocol's error table; these mirror its real shapes.
function protocolError(type: string, code: number, retriable: boolean): Error {
  return new ProtocolError({ type, code, retriable, message: `${type} from broker` });
}

/** What a producer's send throws: the retrier wraps the broker's error, keeping it as cause. */
function asSendFailure(error: Error): Error {
  const inner = new NonRetriableError(error, { cause: error });
  return new NonRetriableError(inner, { cause: error });
}

describe('classifyPublishFailure', () => {
  it.each([
    ['MESSAGE_TOO_LARGE', 10],
    ['RECORD_LIST_TOO_LARGE', 18],
    ['INVALID_RECORD', 87],
    ['INVALID_TIMESTAMP', 32],
  ])('a broker refusal of the record itself (%s) is permanent', (type, code) => {
    expect(classifyPublishFailure(asSendFailure(protocolError(type, code, false)))).toBe(
      'permanent',
    );
  });

  it('a registry refusing a schema as incompatible (409) is permanent', () => {
    const error = Object.assign(new Error('incompatible'), { name: 'IncompatibleSchemaError' });
    expect(classifyPublishFailure(error)).toBe('permanent');
    expect(classifyPublishFailure(Object.assign(new Error('conflict'), { status: 409 }))).toBe(
      'permanent',
    );
  });

  it.each([
    ['a broker that is down', new KafkaJSConnectionError('Connection error: ECONNREFUSED')],
    ['a request timeout', new KafkaJSRequestTimeoutError('Request Produce timed out')],
    [
      'retries exhausted on leader not available',
      new (
        KafkaJSNumberOfRetriesExceeded as unknown as new (
          e: Error,
          options: { retryCount: number; retryTime: number },
        ) => Error
      )(protocolError('LEADER_NOT_AVAILABLE', 5, true), { retryCount: 5, retryTime: 1000 }),
    ],
    ['not enough replicas', asSendFailure(protocolError('NOT_ENOUGH_REPLICAS', 19, true))],
    ['an unknown error', new Error('something else')],
    ['a non-error value', 'boom'],
  ])('%s is transient', (_name, error) => {
    expect(classifyPublishFailure(error)).toBe('transient');
  });
});

describe('describePublishFailure', () => {
  it('names the broker error type for the operator', () => {
    const text = describePublishFailure(
      asSendFailure(protocolError('MESSAGE_TOO_LARGE', 10, false)),
    );
    expect(text).toContain('MESSAGE_TOO_LARGE');
  });
});
