import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Type } from 'avsc';
import type { Schema } from 'avsc';
import type { EventDefinition } from './event-definition';
import { subjectOf } from './event-definition';
import {
  SchemaRegistryUnavailableError,
  UndecodableEventError,
  UnknownSchemaError,
} from './decode-errors';
import { isTransientFailure } from '../faults/failure-classifier';

export class IncompatibleSchemaError extends Error {
  constructor(
    readonly subject: string,
    detail: string,
  ) {
    super(
      `schema registry refused the new schema of ${subject} as incompatible with the registered ` +
        `versions (BACKWARD compatibility): ${detail}. Add new fields with defaults, or publish ` +
        `a new event type.`,
    );
    this.name = 'IncompatibleSchemaError';
  }
}

export class InvalidEventPayloadError extends Error {
  constructor(type: string, detail: string) {
    super(`payload of ${type} does not match its schema: ${detail}`);
    this.name = 'InvalidEventPayloadError';
  }
}

export class UnregisteredEventError extends Error {
  constructor(type: string) {
    super(`event type ${type} is not registered with the codec; register its catalogue at start`);
    this.name = 'UnregisteredEventError';
  }
}

function statusOf(error: unknown): number | undefined {
  if (error && typeof error === 'object' && 'status' in error) {
    const status = (error as { status: unknown }).status;
    return typeof status === 'number' ? status : undefined;
  }
  return undefined;
}

/**
 * Why the writer's schema could not be had. Only "not found" from a registry that answered is
 * the event's fault; any other answer (5xx, auth, a wrong path) or no answer is the registry's,
 * and waiting can help.
 */
function writerSchemaFailure(schemaId: number, error: unknown): Error {
  const status = statusOf(error);
  if (status === 404 && /schema .*not found/i.test((error as Error).message)) {
    return new UnknownSchemaError(schemaId, { cause: error });
  }
  if (status !== undefined || isTransientFailure(error)) {
    return new SchemaRegistryUnavailableError(schemaId, { cause: error });
  }
  // No HTTP status and no network error: the registry's schema did not parse.
  return new UndecodableEventError(
    `writer schema ${schemaId} is not usable: ${(error as Error)?.message ?? String(error)}`,
    { cause: error },
  );
}

/** The writer's schema id from the Confluent wire format (magic byte 0, 4-byte id, body). */
function writerIdOf(value: Buffer): number {
  if (value.length < 5 || value[0] !== 0) {
    throw new UndecodableEventError(
      'value is not in the Confluent wire format (magic byte 0, schema id, body)',
    );
  }
  return value.readInt32BE(1);
}

function decoderKey(definition: EventDefinition<unknown>, writerId: number): string {
  return `${definition.type}@${writerId}`;
}

function runDecoder<T>(decode: (body: Buffer) => unknown, value: Buffer, writerId: number): T {
  try {
    return decode(value.subarray(5)) as T;
  } catch (error) {
    throw new UndecodableEventError(
      `Avro body does not decode with writer schema ${writerId}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * Encodes and decodes event payloads through a Confluent-compatible schema registry (Confluent
 * wire format: magic byte, 4-byte schema id, Avro body), so any Confluent client can read them.
 */
/** The registry's 409 for a compatibility rule another client set first. */
function isRuleAlreadySet(error: unknown): boolean {
  return /rule named .*already exists|rule .*already exists/i.test(
    error instanceof Error ? error.message : String(error),
  );
}

export class EventCodec {
  private readonly registry: SchemaRegistry;
  private readonly schemaIds = new Map<string, number>();
  private readonly readerTypes = new Map<string, Type>();
  private readonly decoders = new Map<string, (body: Buffer) => unknown>();

  /**
   * Basic auth for managed registries comes from `auth`, or else from `SCHEMA_REGISTRY_USERNAME` /
   * `SCHEMA_REGISTRY_PASSWORD`.
   */
  constructor(registryUrl: string, auth?: { username: string; password: string }) {
    const username = auth?.username ?? process.env.SCHEMA_REGISTRY_USERNAME;
    const password = auth?.password ?? process.env.SCHEMA_REGISTRY_PASSWORD;
    this.registry = new SchemaRegistry({
      host: registryUrl,
      clientId: 'tenantry',
      ...(username && password ? { auth: { username, password } } : {}),
    });
  }

  /**
   * Registers (or finds) each event's schema with BACKWARD compatibility. A breaking change is
   * refused here, at start, with an IncompatibleSchemaError: never later in production.
   */
  async register(definitions: readonly EventDefinition<unknown>[]): Promise<void> {
    for (const definition of definitions) {
      const subject = subjectOf(definition);
      for (let attempt = 1; ; attempt += 1) {
        try {
          const { id } = await this.registry.register(
            { type: SchemaType.AVRO, schema: JSON.stringify(definition.schema) },
            { subject, compatibility: COMPATIBILITY.BACKWARD },
          );
          this.schemaIds.set(definition.type, id);
          break;
        } catch (error) {
          if (statusOf(error) !== 409) throw error;
          // Two replicas registering a new subject at once both set its compatibility, and the
          // registry refuses the second (Apicurio: "A rule named 'COMPATIBILITY' already
          // exists"). That is a race, not an incompatible schema: the rule is set now, so again.
          if (isRuleAlreadySet(error) && attempt < 5) {
            await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
            continue;
          }
          throw new IncompatibleSchemaError(subject, (error as Error).message);
        }
      }
    }
  }

  schemaIdOf(definition: EventDefinition<unknown>): number {
    const id = this.schemaIds.get(definition.type);
    if (id === undefined) throw new UnregisteredEventError(definition.type);
    return id;
  }

  async encode<T>(definition: EventDefinition<T>, data: T): Promise<Buffer> {
    try {
      return await this.registry.encode(this.schemaIdOf(definition), data);
    } catch (error) {
      if (error instanceof UnregisteredEventError) throw error;
      throw new InvalidEventPayloadError(definition.type, (error as Error).message);
    }
  }

  /** Decodes with the writer's schema, fetched by the id in the wire format (and cached). */
  async decode(value: Buffer): Promise<unknown> {
    return this.registry.decode(value);
  }

  /**
   * Decodes into the reader's (this code's) schema: Avro schema resolution fills fields the
   * writer did not know with their defaults and drops fields the reader does not know. The reader
   * type and each writer-to-reader resolver are built once and cached (building them per message
   * cost more than the decoding itself).
   */
  async decodeAs<T>(definition: EventDefinition<T>, value: Buffer): Promise<T> {
    const writerId = writerIdOf(value);
    const decode =
      this.decoders.get(decoderKey(definition, writerId)) ??
      (await this.buildDecoder(definition, writerId));
    return runDecoder<T>(decode, value, writerId);
  }

  /**
   * `decodeAs` without a promise when the writer's schema is already known here (the usual case
   * after the first event of a type): `{ data }`, or undefined when the registry has to be asked,
   * so a consumer awaits only then. Throws as `decodeAs` does for a value that cannot decode.
   */
  decodeAsIfCached<T>(definition: EventDefinition<T>, value: Buffer): { data: T } | undefined {
    const writerId = writerIdOf(value);
    const decode = this.decoders.get(decoderKey(definition, writerId));
    return decode ? { data: runDecoder<T>(decode, value, writerId) } : undefined;
  }

  private async buildDecoder(
    definition: EventDefinition<unknown>,
    writerId: number,
  ): Promise<(body: Buffer) => unknown> {
    let writer: Type;
    try {
      writer = (await this.registry.getSchema(writerId)) as unknown as Type;
    } catch (error) {
      throw writerSchemaFailure(writerId, error);
    }
    let reader = this.readerTypes.get(definition.type);
    if (!reader) {
      reader = Type.forSchema(definition.schema as unknown as Schema);
      this.readerTypes.set(definition.type, reader);
    }
    const readerType = reader;
    let resolver: ReturnType<Type['createResolver']> | undefined;
    try {
      resolver = readerType.equals(writer) ? undefined : readerType.createResolver(writer);
    } catch (error) {
      throw new UndecodableEventError(
        `writer schema ${writerId} cannot be read as ${definition.type}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const decode = (body: Buffer): unknown => readerType.fromBuffer(body, resolver);
    this.decoders.set(decoderKey(definition, writerId), decode);
    return decode;
  }
}
