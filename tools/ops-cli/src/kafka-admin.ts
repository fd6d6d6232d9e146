import { createKafkaClient } from '@tenantry/events';
import { PlatformUnreachableError } from './exit-codes';
import type { OpsConfig } from './ops-config';

export type KafkaClient = ReturnType<typeof createKafkaClient>;
export type KafkaAdmin = ReturnType<KafkaClient['admin']>;

export function kafkaClientOf(config: OpsConfig): KafkaClient {
  return createKafkaClient({ clientId: 'tenantry-ops-cli', brokers: config.kafkaBrokers });
}

/**
 * A connected admin client, or PlatformUnreachableError (exit 3) within the timeout: kafkajs'
 * own retries would take most of a minute to give up on a broker that is not there.
 */
export async function connectAdmin(kafka: KafkaClient, config: OpsConfig): Promise<KafkaAdmin> {
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      admin.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${config.timeoutMs} ms`)),
          config.timeoutMs,
        );
      }),
    ]);
    return admin;
  } catch (error) {
    await admin.disconnect().catch(() => undefined);
    throw new PlatformUnreachableError(
      `cannot reach Kafka at ${config.kafkaBrokers.join(',')}: ${(error as Error).message}`,
    );
  } finally {
    clearTimeout(timer);
  }
}
