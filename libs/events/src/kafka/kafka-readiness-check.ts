import type { Kafka } from 'kafkajs';

/**
 * A readiness check (for `createHttpApp({ readinessChecks })`) that passes while the Kafka cluster
 * answers a metadata request. It keeps one admin connection open rather than reconnecting on
 * every probe.
 */
export function kafkaReadinessCheck(kafka: Kafka): (signal: AbortSignal) => Promise<void> {
  const admin = kafka.admin();
  let connected: Promise<void> | undefined;
  return async () => {
    connected ??= admin.connect().catch((error: unknown) => {
      connected = undefined;
      throw error;
    });
    await connected;
    try {
      await admin.describeCluster();
    } catch (error) {
      connected = undefined;
      await admin.disconnect().catch(() => undefined);
      throw error;
    }
  };
}
