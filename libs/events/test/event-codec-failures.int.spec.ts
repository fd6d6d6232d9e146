import { randomBytes } from 'node:crypto';
import { testStackEnv } from '@tenantry/testing';
import {
  EventCodec,
  SchemaRegistryUnavailableError,
  UndecodableEventError,
  UnknownSchemaError,
  classifyFailure,
  defineEvent,
} from '../src';

/** Confluent framing: magic byte 0, the 4-byte schema id, then the body. */
function framed(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

// The codec tells "the registry is not there" from "this event can never be decoded".
describe('EventCodec decode failures against a real registry', () => {
  const domain = `c${randomBytes(4).toString('hex')}`;
  const event = defineEvent<{ id: string; count: number }>({
    type: `${domain}.thing.counted`,
    topic: `${domain}.events`,
    schema: {
      type: 'record',
      name: 'ThingCounted',
      namespace: 'tenantry.test',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'count', type: 'long' },
      ],
    },
  });

  it('says a schema id unknown to a healthy registry is permanent', async () => {
    const codec = new EventCodec(testStackEnv().schemaRegistryUrl);
    const error = await codec
      .decodeAs(event, framed(2_000_000_000, Buffer.from([0x02, 0x61])))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownSchemaError);
    expect(classifyFailure(error)).toBe('permanent');
  });

  it('says an unreachable registry is transient', async () => {
    // Port 9 (discard) is closed on the test machines: the connection is refused.
    const codec = new EventCodec('http://127.0.0.1:9/apis/ccompat/v7');
    const error = await codec
      .decodeAs(event, framed(1, Buffer.from([0x02, 0x61])))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaRegistryUnavailableError);
    expect(classifyFailure(error)).toBe('transient');
  });

  it('says a wrong path on the registry (not a schema answer) is transient', async () => {
    const codec = new EventCodec(`${new URL(testStackEnv().schemaRegistryUrl).origin}/nowhere`);
    const error = await codec
      .decodeAs(event, framed(1, Buffer.from([0x02, 0x61])))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaRegistryUnavailableError);
  });

  it('says a bad magic byte and a truncated Avro body are permanent', async () => {
    const codec = new EventCodec(testStackEnv().schemaRegistryUrl);
    await codec.register([event]);
    const good = await codec.encode(event, { id: 'a', count: 3 });
    expect(await codec.decodeAs(event, good)).toEqual({ id: 'a', count: 3 });

    const badMagic = Buffer.from(good);
    badMagic[0] = 0x7b;
    const magicError = await codec.decodeAs(event, badMagic).catch((e: unknown) => e);
    expect(magicError).toBeInstanceOf(UndecodableEventError);

    const truncated = good.subarray(0, 6);
    const bodyError = await codec.decodeAs(event, truncated).catch((e: unknown) => e);
    expect(bodyError).toBeInstanceOf(UndecodableEventError);
    expect(classifyFailure(bodyError)).toBe('permanent');
  });
});
