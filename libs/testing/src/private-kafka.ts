import { PrivateStackServer } from './private-stack';

/**
 * A Kafka broker of a test's own (a separate local-stack profile), for tests that stop and
 * restart Kafka without disturbing the suites that share the main test broker.
 */
export class PrivateKafka extends PrivateStackServer {
  readonly brokers: string[];

  /** `port` and `port + 1` (controller): keep them below the ephemeral range (32768+). */
  constructor(profile: string, port: number) {
    super(profile, 'kafka', { KAFKA_PORT: port, KAFKA_CONTROLLER_PORT: port + 1 });
    this.brokers = [`127.0.0.1:${port}`];
  }
}
