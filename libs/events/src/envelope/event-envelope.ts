import type { ActorType } from '@tenantry/tenancy';
import { isActorType } from '@tenantry/tenancy';

/**
 * Every event's metadata, with CloudEvents 1.0 attribute names plus the platform's extensions.
 * On Kafka it travels in the CloudEvents binary mode: attributes are `ce_`-prefixed headers, the
 * value is the schema-registry-encoded payload (Confluent wire format).
 */
export interface EventMetadata {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly specversion: '1.0';
  readonly time: string;
  readonly subject: string;
  readonly tenantid: string;
  readonly actortype: ActorType;
  readonly actorid: string;
  readonly correlationid: string;
  readonly causationid?: string;
  /** W3C trace context of the span that published the event. */
  readonly traceparent?: string;
  readonly tracestate?: string;
}

export interface EventEnvelope<TData> extends EventMetadata {
  readonly data: TData;
}

const REQUIRED: readonly (keyof EventMetadata)[] = [
  'id',
  'source',
  'type',
  'specversion',
  'time',
  'subject',
  'tenantid',
  'actortype',
  'actorid',
  'correlationid',
];
const OPTIONAL: readonly (keyof EventMetadata)[] = ['causationid'];

export const CONTENT_TYPE_HEADER = 'content-type';
export const AVRO_CONTENT_TYPE = 'application/avro';
const PREFIX = 'ce_';

export class InvalidEnvelopeError extends Error {
  constructor(reason: string) {
    super(`invalid event envelope: ${reason}`);
    this.name = 'InvalidEnvelopeError';
  }
}

export type KafkaHeaderValue = Buffer | string | (Buffer | string)[] | undefined;
export type KafkaHeaders = Record<string, KafkaHeaderValue>;

function headerText(value: KafkaHeaderValue): string | undefined {
  if (value === undefined) return undefined;
  const single = Array.isArray(value) ? value[0] : value;
  if (single === undefined) return undefined;
  return Buffer.isBuffer(single) ? single.toString('utf8') : single;
}

/** Kafka headers for an envelope's metadata (the payload goes in the message value). */
export function metadataToHeaders(metadata: EventMetadata): Record<string, string> {
  const headers: Record<string, string> = { [CONTENT_TYPE_HEADER]: AVRO_CONTENT_TYPE };
  for (const name of [...REQUIRED, ...OPTIONAL]) {
    const value = metadata[name];
    if (value !== undefined) headers[PREFIX + name] = value;
  }
  // Trace context keeps its W3C header names so any OpenTelemetry consumer picks it up.
  if (metadata.traceparent) headers.traceparent = metadata.traceparent;
  if (metadata.tracestate) headers.tracestate = metadata.tracestate;
  return headers;
}

/** Reads and validates an envelope's metadata from Kafka headers. */
export function metadataFromHeaders(headers: KafkaHeaders | undefined): EventMetadata {
  if (!headers) throw new InvalidEnvelopeError('message has no headers');
  // Each header is decoded once: this runs for every consumed event.
  const text: Partial<Record<(typeof REQUIRED)[number], string>> = {};
  const missing: string[] = [];
  for (const name of REQUIRED) {
    const value = headerText(headers[PREFIX + name]);
    if (value) text[name] = value;
    else missing.push(name);
  }
  if (missing.length > 0) throw new InvalidEnvelopeError(`missing ${missing.join(', ')}`);
  const specversion = text.specversion;
  if (specversion !== '1.0')
    throw new InvalidEnvelopeError(`unsupported specversion ${specversion}`);
  const actortype = text.actortype;
  if (!isActorType(actortype)) throw new InvalidEnvelopeError(`unknown actortype ${actortype}`);
  const required = (name: (typeof REQUIRED)[number]): string => text[name] as string;
  return {
    id: required('id'),
    source: required('source'),
    type: required('type'),
    specversion: '1.0',
    time: required('time'),
    subject: required('subject'),
    tenantid: required('tenantid'),
    actortype,
    actorid: required('actorid'),
    correlationid: required('correlationid'),
    causationid: headerText(headers[PREFIX + 'causationid']),
    traceparent: headerText(headers.traceparent),
    tracestate: headerText(headers.tracestate),
  };
}

/** Plain-text copy of headers, for logs and DLQ inspection. */
export function headersToText(headers: KafkaHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const v = headerText(value);
    if (v !== undefined) text[name] = v;
  }
  return text;
}
