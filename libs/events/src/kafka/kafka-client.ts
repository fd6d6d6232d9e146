import { Kafka, logLevel } from 'kafkajs';
import type { LogEntry } from 'kafkajs';
import type { EventsLogger } from './events-logger';
import { silentLogger } from './events-logger';

export interface KafkaClientOptions {
  readonly clientId: string;
  readonly brokers: readonly string[];
  readonly logger?: EventsLogger;
}

/** Brokers from `KAFKA_BROKERS` (comma-separated), default the local stack's. */
export function kafkaBrokersFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.KAFKA_BROKERS ?? '127.0.0.1:9092')
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
}

/** A kafkajs client whose own log lines go to the service's structured logger. */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  const logger = options.logger ?? silentLogger;
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 200, retries: 8 },
    logCreator:
      () =>
      ({ level, log, namespace }: LogEntry) => {
        const { message, ...meta } = log;
        const line = `kafkajs ${namespace}: ${message}`;
        if (level === logLevel.ERROR) logger.error(line, meta);
        else if (level === logLevel.WARN) logger.warn(line, meta);
        else logger.debug(line, meta);
      },
  });
}
