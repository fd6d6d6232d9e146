import type { Kafka } from 'kafkajs';

/**
 * A readiness check (for `createHttpApp({ readinessChecks })`) that passes while the Kafka cluster
 * answers a metadata request. Each probe connects and disconnects, so a probe never leaves a
 * connection behind in a service that is shutting down (probes come every few seconds; this is
 * cheap on that scale).
 */
export function kafkaReadinessCheck(kafka: Kafka): (signal: AbortSignal) => Promise<void> {
  return async () => {
    const admin = kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      await admin.describeCluster();
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };
}
