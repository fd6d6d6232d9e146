/**
 * Addresses of the Kafka / schema registry / PostgreSQL that integration tests talk to. They come
 * from the environment: either given by the caller (CI, a developer's own servers) or set by the
 * jest global setup after it started the private `test` stack (deploy/local/bin/platform.mjs).
 */
export interface TestStackEnv {
  /** host:port list, e.g. ['127.0.0.1:19092'] */
  kafkaBrokers: string[];
  /** Confluent-compatible base URL, e.g. http://127.0.0.1:18081/apis/ccompat/v7 */
  schemaRegistryUrl: string;
  /** Superuser URL, e.g. postgres://postgres:postgres@127.0.0.1:15433/postgres */
  databaseAdminUrl: string;
}

export const STACK_ENV_VARS = [
  'KAFKA_BROKERS',
  'SCHEMA_REGISTRY_URL',
  'DATABASE_ADMIN_URL',
] as const;

export function testStackEnv(env: NodeJS.ProcessEnv = process.env): TestStackEnv {
  const missing = STACK_ENV_VARS.filter((k) => !env[k] || env[k]!.trim() === '');
  if (missing.length > 0) {
    throw new Error(
      `Missing ${missing.join(', ')}. Integration tests get them from the jest global setup ` +
        '(libs/testing/src/global-setup.ts, which starts the local test stack) or from the environment: ' +
        'set all of KAFKA_BROKERS, SCHEMA_REGISTRY_URL and DATABASE_ADMIN_URL to use your own servers.',
    );
  }
  const kafkaBrokers = env
    .KAFKA_BROKERS!.split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  return {
    kafkaBrokers,
    schemaRegistryUrl: env.SCHEMA_REGISTRY_URL!.trim().replace(/\/+$/, ''),
    databaseAdminUrl: env.DATABASE_ADMIN_URL!.trim(),
  };
}
