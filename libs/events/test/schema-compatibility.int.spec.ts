import { randomBytes } from 'node:crypto';
import { EventCodec, IncompatibleSchemaError, defineEvent, subjectOf } from '../src';
import { testStackEnv } from '@tenantry/testing';

describe('schema registry governance', () => {
  const domain = `s${randomBytes(4).toString('hex')}`;
  const v1 = defineEvent<{ id: string }>({
    type: `${domain}.widget.created`,
    topic: `${domain}.events`,
    schema: {
      type: 'record',
      name: 'WidgetCreated',
      namespace: 'tenantry.test',
      fields: [{ name: 'id', type: 'string' }],
    },
  });

  it('accepts a backward-compatible change: a new field with a default', async () => {
    const codec = new EventCodec(testStackEnv().schemaRegistryUrl);
    await codec.register([v1]);
    const v1Id = codec.schemaIdOf(v1);
    const v2 = defineEvent<{ id: string; colour: string }>({
      ...v1,
      schema: {
        ...v1.schema,
        fields: [...v1.schema.fields, { name: 'colour', type: 'string', default: 'blue' }],
      },
    });
    await codec.register([v2]);
    expect(codec.schemaIdOf(v2)).not.toBe(v1Id);

    // A v1 payload read with the v2 schema gets the default.
    const v1Codec = new EventCodec(testStackEnv().schemaRegistryUrl);
    await v1Codec.register([v1]);
    const bytes = await v1Codec.encode(v1, { id: 'w-1' });
    expect(bytes[0]).toBe(0); // Confluent wire format magic byte
    expect(await codec.decodeAs(v2, bytes)).toEqual({ id: 'w-1', colour: 'blue' });
  });

  it('refuses a breaking change at registration, with a clear error', async () => {
    const codec = new EventCodec(testStackEnv().schemaRegistryUrl);
    await codec.register([v1]);
    const breaking = defineEvent<{ id: string; size: number }>({
      ...v1,
      schema: { ...v1.schema, fields: [...v1.schema.fields, { name: 'size', type: 'int' }] },
    });
    const refusal = codec.register([breaking]);
    await expect(refusal).rejects.toBeInstanceOf(IncompatibleSchemaError);
    await expect(refusal).rejects.toThrow(subjectOf(breaking));
  });

  it('refuses a payload that does not match its schema before it is written', async () => {
    const codec = new EventCodec(testStackEnv().schemaRegistryUrl);
    await codec.register([v1]);
    await expect(codec.encode(v1, { id: 42 } as unknown as { id: string })).rejects.toThrow(
      /does not match its schema/,
    );
  });

  it('registers a new subject from several replicas at once: all start, one schema id', async () => {
    const fresh = defineEvent<{ id: string }>({
      ...v1,
      type: `${domain}.gadget.created`,
      schema: { ...v1.schema, name: 'GadgetCreated' },
    });
    // Each replica sets the new subject's compatibility rule; the registry refuses all but the
    // first with a 409 that is a race, not an incompatible schema.
    const codecs = Array.from(
      { length: 4 },
      () => new EventCodec(testStackEnv().schemaRegistryUrl),
    );
    await Promise.all(codecs.map((codec) => codec.register([fresh])));
    expect(new Set(codecs.map((codec) => codec.schemaIdOf(fresh))).size).toBe(1);
  });
});
