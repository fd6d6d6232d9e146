/**
 * Lists a topic's dead-letter entries (JSON on stdout, progress on stderr), read-only:
 *   npm run dlq -- list identity.events [--tenant <id>] [--type <event type>] [--since <ISO>]
 * Replaying is the ops CLI's (`npx tenantry dlq replay`), which has identity audit it first.
 * Exit codes: 0 done, 1 failed (Kafka, timeout), 2 usage. Brokers from KAFKA_BROKERS.
 */
import { DeadLetterReplayer } from '../dlq/dead-letter-replayer';
import { createKafkaClient, kafkaBrokersFromEnv } from '../kafka/kafka-client';
import { DLQ_USAGE, DlqUsageError, parseDlqArguments } from './dlq-cli-arguments';
import type { DlqCommand } from './dlq-cli-arguments';
import { dlqProgressReporter } from './dlq-progress-reporter';

async function run({ command, topic, filter, timeoutMs }: DlqCommand): Promise<number> {
  const progress = dlqProgressReporter();
  const replayer = new DeadLetterReplayer(
    createKafkaClient({ clientId: 'tenantry-dlq-cli', brokers: kafkaBrokersFromEnv() }),
    { timeoutMs, onProgress: progress.report },
  );
  try {
    const entries = await replayer.list(topic, filter);
    progress.end();
    console.log(JSON.stringify({ command, topic, count: entries.length, entries }, null, 2));
    return 0;
  } finally {
    progress.end();
  }
}

function main(argv: string[]): Promise<number> {
  let parsed: DlqCommand;
  try {
    parsed = parseDlqArguments(argv);
  } catch (error) {
    if (!(error instanceof DlqUsageError)) throw error;
    console.error(`${error.message}\n${DLQ_USAGE}`);
    return Promise.resolve(2);
  }
  return run(parsed);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`dlq: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
