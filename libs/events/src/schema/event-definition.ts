/** An Avro record schema, as JSON. */
export interface AvroRecordSchema {
  readonly type: 'record';
  readonly name: string;
  readonly namespace: string;
  readonly doc?: string;
  readonly fields: readonly unknown[];
}

/**
 * One entry of the typed event catalogue: event type -> topic -> Avro schema -> TypeScript type.
 * The type parameter is the payload's TypeScript shape; the registry checks the schema's
 * evolution, and encoding checks each payload against it.
 */
export interface EventDefinition<TData> {
  /** `<domain>.<entity>.<past-tense verb>`, e.g. `billing.invoice.issued`. */
  readonly type: string;
  readonly topic: string;
  readonly schema: AvroRecordSchema;
  /** Phantom field carrying the payload type; never set at run time. */
  readonly __data?: TData;
}

export type EventData<D> = D extends EventDefinition<infer T> ? T : never;

const EVENT_TYPE = /^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*$/;
const TOPIC = /^[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*$/;

export function defineEvent<TData>(definition: {
  type: string;
  topic: string;
  schema: AvroRecordSchema;
}): EventDefinition<TData> {
  if (!EVENT_TYPE.test(definition.type)) {
    throw new Error(`event type ${definition.type} is not <domain>.<entity>.<past-tense verb>`);
  }
  if (!TOPIC.test(definition.topic)) {
    throw new Error(`topic ${definition.topic} is not <domain>.<kind>`);
  }
  if (definition.schema.type !== 'record') throw new Error('an event schema is an Avro record');
  return Object.freeze({ ...definition });
}

/**
 * Registry subject of an event type: TopicRecordNameStrategy, so one topic carries several event
 * types and each type's schema evolves (and is compatibility-checked) on its own.
 */
export function subjectOf(definition: EventDefinition<unknown>): string {
  return `${definition.topic}-${definition.schema.namespace}.${definition.schema.name}`;
}
