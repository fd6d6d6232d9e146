import { ApiKeyRevokedEvent, SessionRevokedEvent } from '@tenantry/contracts';
import type { EventsLogger, InboxOutcome, createKafkaClient } from '@tenantry/events';
import type { ServiceConsumers } from '@tenantry/service-runtime';
import type { ApiKeyVerifier } from '../auth/api-key-verifier';
import type { PermissionDecisionCache } from '../auth/permission-decision-cache';
import type { RevocationList } from '../auth/revocation-list';

/** Every gateway replica's revocation consumer is named with this prefix. */
export const REVOCATION_CONSUMER_PREFIX = 'gateway.revocations.';

type KafkaClient = ReturnType<typeof createKafkaClient>;

/** Both revocations travel on identity's topic. */
const TOPIC = SessionRevokedEvent.topic;

export interface RevocationConsumerOptions {
  readonly kafka: KafkaClient;
  readonly consumers: ServiceConsumers;
  readonly logger: EventsLogger;
  readonly apiKeys: ApiKeyVerifier;
  readonly sessions: RevocationList;
  /** Undefined when the gateway does not check permissions itself. */
  readonly decisions?: PermissionDecisionCache;
  /** How long `waitUntilCaughtUp` waits for the replay of recent revocations before serving anyway. */
  readonly catchUpTimeoutMs?: number;
  readonly onOutcome?: (outcome: InboxOutcome) => void;
}

/**
 * This replica's listener for identity's revocations: a revoked API key's cached verification
 * and decisions are dropped and the key refused; an ended session's `sid` is refused until its
 * access tokens expire.
 *
 * Its own consumer group (every replica must hear every revocation), starting from the earliest
 * offset: a replica that starts later must know the sessions ended while their tokens can still
 * be alive. Replaying `identity.events` (a low-volume lifecycle topic) costs a read at start;
 * entries already expired are no-ops. Seeking by timestamp (now - token TTL) was measured instead:
 * committing offsets for a fresh group through the admin client took ~5 s per start, and the
 * gateway would have to know identity's token TTL, which the events already carry.
 */
export class RevocationConsumer {
  readonly name: string;

  constructor(private readonly options: RevocationConsumerOptions) {
    const { apiKeys, sessions, decisions, logger, consumers } = options;
    this.name = consumers.instanceName(REVOCATION_CONSUMER_PREFIX);
    consumers
      .perInstance(REVOCATION_CONSUMER_PREFIX, {
        fromBeginning: true,
        partitionsConsumedConcurrently: 6,
        onOutcome: options.onOutcome,
      })
      .on(ApiKeyRevokedEvent, async (event) => {
        const { apiKeyId, tenantId } = event.data;
        const dropped = apiKeys.revoke(apiKeyId, Date.parse(event.data.revokedAt));
        const decisionsDropped = decisions?.invalidateActor(tenantId, {
          type: 'api_key',
          id: apiKeyId,
        });
        logger.info('api key revoked: refused at this gateway', {
          tenantId,
          apiKeyId,
          dropped,
          decisionsDropped,
        });
      })
      .on(SessionRevokedEvent, async (event) => {
        const { sessionId, tenantId, userId, reason } = event.data;
        const until = Date.parse(event.data.accessTokensExpireAt);
        // A replayed session whose tokens have all expired needs no entry.
        if (!sessions.add(sessionId, Number.isNaN(until) ? Date.now() + 15 * 60_000 : until)) {
          return;
        }
        logger.info('session revoked: its access tokens are refused at this gateway', {
          tenantId,
          userId,
          sessionId,
          reason,
        });
      });
  }

  /**
   * After the consumer started (the runtime starts every consumer before the tasks): waits,
   * bounded, until the replay reached the offsets the topic has now, so the replica does not
   * serve a token whose session ended before it started.
   */
  async waitUntilCaughtUp(): Promise<void> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(TOPIC);
      const deadline = Date.now() + (this.options.catchUpTimeoutMs ?? 15_000);
      for (;;) {
        const [committed] = await admin.fetchOffsets({
          groupId: this.name,
          topics: [TOPIC],
        });
        const at = new Map(committed?.partitions.map((p) => [p.partition, Number(p.offset)]));
        const behind = ends.filter(
          (end) =>
            Number(end.high) > Number(end.low) && (at.get(end.partition) ?? -1) < Number(end.high),
        );
        if (behind.length === 0) return;
        if (Date.now() >= deadline) {
          this.options.logger.warn('revocations not fully replayed yet; serving anyway', {
            consumer: this.name,
            partitionsBehind: behind.length,
          });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
