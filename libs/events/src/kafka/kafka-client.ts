import { Kafka, logLevel } from 'kafkajs';
import type { LogEntry, SASLOptions } from 'kafkajs';
import type { EventsLogger } from './events-logger';
import { silentLogger } from './events-logger';

export interface KafkaClientOptions {
  readonly clientId: string;
  readonly brokers: readonly string[];
  readonly logger?: EventsLogger;
  /** TLS and SASL for managed clusters; default: from the environment (see below). */
  readonly security?: KafkaSecurity;
}

export interface KafkaSecurity {
  readonly ssl: boolean;
  readonly sasl?: {
    readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    readonly username: string;
    readonly password: string;
  };
}

const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

/**
 * TLS and SASL from `KAFKA_SSL=true` and `KAFKA_SASL_MECHANISM` / `KAFKA_SASL_USERNAME` /
 * `KAFKA_SASL_PASSWORD`: every service connects the same way, whatever cluster it is given.
 */
export function kafkaSecurityFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSecurity {
  const ssl = env.KAFKA_SSL === 'true';
  const mechanism = env.KAFKA_SASL_MECHANISM?.trim().toLowerCase();
  if (!mechanism) return { ssl };
  if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
    throw new Error(`KAFKA_SASL_MECHANISM must be one of ${SASL_MECHANISMS.join(', ')}`);
  }
  const username = env.KAFKA_SASL_USERNAME;
  const password = env.KAFKA_SASL_PASSWORD;
  if (!username || !password) {
    throw new Error(
      'KAFKA_SASL_MECHANISM is set: KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required',
    );
  }
  return {
    ssl,
    sasl: { mechanism: mechanism as (typeof SASL_MECHANISMS)[number], username, password },
  };
}

/** Brokers from `KAFKA_BROKERS` (comma-separated), default the local stack's. */
export function kafkaBrokersFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.KAFKA_BROKERS ?? '127.0.0.1:9092')
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
}

/** kafkajs' own verbosity: warn by default; `KAFKAJS_LOG_LEVEL=info` shows joins and fetches. */
function kafkajsLogLevel(name: string | undefined): logLevel {
  switch (name?.toLowerCase()) {
    case 'debug':
      return logLevel.DEBUG;
    case 'info':
      return logLevel.INFO;
    case 'error':
      return logLevel.ERROR;
    case 'nothing':
      return logLevel.NOTHING;
    default:
      return logLevel.WARN;
  }
}

/** A kafkajs client whose own log lines go to the service's structured logger. */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  const logger = options.logger ?? silentLogger;
  const security = options.security ?? kafkaSecurityFromEnv();
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    ssl: security.ssl,
    ...(security.sasl ? { sasl: security.sasl as SASLOptions } : {}),
    logLevel: kafkajsLogLevel(process.env.KAFKAJS_LOG_LEVEL),
    retry: { initialRetryTime: 200, retries: 8 },
    logCreator:
      () =>
      ({ level, log, namespace }: LogEntry) => {
        const { message, ...meta } = log;
        const line = `kafkajs ${namespace}: ${message}`;
        // Producers retry a bounded number of times on purpose: the outbox relay backs off and
        // re-sends itself (at-least-once, made idempotent by the inbox), so this is not news.
        if (String(message).startsWith('Limiting retries for the idempotent producer')) {
          logger.debug(line, meta);
        } else if (level === logLevel.ERROR) logger.error(line, meta);
        else if (level === logLevel.WARN) logger.warn(line, meta);
        else if (level === logLevel.INFO) logger.info(line, meta);
        else logger.debug(line, meta);
      },
  });
}
