/**
 * Lists or replays a topic's dead-letter entries.
 *   npm run dlq -- list identity.events
 *   npm run dlq -- replay identity.events [--id <event id> ...]
 * Brokers from KAFKA_BROKERS (default 127.0.0.1:9092).
 */
import { DeadLetterReplayer } from '../dlq/dead-letter-replayer';
import { createKafkaClient, kafkaBrokersFromEnv } from '../kafka/kafka-client';

async function main(argv: string[]): Promise<number> {
  const [command, topic, ...rest] = argv;
  if ((command !== 'list' && command !== 'replay') || !topic) {
    console.error('usage: dlq list <topic> | dlq replay <topic> [--id <event id> ...]');
    return 2;
  }
  const eventIds: string[] = [];
  for (let i = 0; i < rest.length; i += 1) {
    if (rest[i] === '--id' && rest[i + 1]) eventIds.push(rest[(i += 1)] as string);
    else {
      console.error(`unknown argument ${rest[i]}`);
      return 2;
    }
  }
  const replayer = new DeadLetterReplayer(
    createKafkaClient({ clientId: 'tenantry-dlq-cli', brokers: kafkaBrokersFromEnv() }),
  );
  const entries =
    command === 'list'
      ? await replayer.list(topic)
      : await replayer.replay(topic, eventIds.length > 0 ? { eventIds } : {});
  console.log(JSON.stringify({ command, topic, count: entries.length, entries }, null, 2));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
