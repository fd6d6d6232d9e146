/**
 * Why a payload could not be decoded, split by whether waiting can help: the inbox pauses on the
 * first kind and dead-letters the others.
 */

/** The registry could not be reached or answered 5xx: the event is fine, try again later. */
export class SchemaRegistryUnavailableError extends Error {
  readonly transient = true;

  constructor(schemaId: number, options: { cause: unknown }) {
    super(
      `schema registry unavailable while fetching schema ${schemaId}: ${String(
        (options.cause as Error)?.message ?? options.cause,
      )}`,
      options,
    );
    this.name = 'SchemaRegistryUnavailableError';
  }
}

/** A healthy registry answered that the writer's schema id does not exist. */
export class UnknownSchemaError extends Error {
  readonly transient = false;

  constructor(schemaId: number, options: { cause: unknown }) {
    super(`schema ${schemaId} is unknown to the schema registry`, options);
    this.name = 'UnknownSchemaError';
  }
}

/** The bytes are not a Confluent-framed Avro payload of the writer's schema. */
export class UndecodableEventError extends Error {
  readonly transient = false;

  constructor(detail: string, options?: { cause: unknown }) {
    super(detail, options);
    this.name = 'UndecodableEventError';
  }
}
