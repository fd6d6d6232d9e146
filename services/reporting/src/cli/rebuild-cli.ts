// Rebuilds reporting's read models in place from the topics. Stop reporting first, run this,
// start reporting again; it catches up from the earliest retained offsets (docs/adr/0015).
//
//   npx tsx services/reporting/src/cli/rebuild-cli.ts [--accept-usage-loss]
//
// Environment: REPORTING_DATABASE_OWNER_URL, KAFKA_BROKERS, KAFKA_CONSUMER_GROUP_PREFIX (as the
// service's).
import { kafkaBrokersFromEnv } from '@tenantry/events';
import { RebuildRefusedError, rebuildReadModels } from '../application/rebuild/rebuild-read-models';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--accept-usage-loss');
  if (unknown.length > 0) throw new RebuildRefusedError(`unknown arguments ${unknown.join(' ')}`);
  const result = await rebuildReadModels({
    databaseOwnerUrl:
      process.env.REPORTING_DATABASE_OWNER_URL ??
      'postgres://reporting_owner:reporting_owner@127.0.0.1:5433/reporting',
    kafkaBrokers: kafkaBrokersFromEnv({
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    }),
    consumerGroupPrefix: process.env.KAFKA_CONSUMER_GROUP_PREFIX ?? 'reporting',
    acceptUsageLoss: args.includes('--accept-usage-loss'),
  });
  console.log(JSON.stringify(result, null, 2));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
