import type { ApiKeyRevoked } from '@tenantry/contracts';
import type { EventHandler } from '@tenantry/events';
import type { IdentityPolicySync } from '../application/sync-identity/identity-policy-sync';
import { eventTime } from './event-time';

export function apiKeyRevokedHandler(sync: IdentityPolicySync): EventHandler<ApiKeyRevoked> {
  return (event, tx) =>
    sync.subjectRemoved(
      tx,
      'api_key',
      event.data.apiKeyId,
      eventTime(event.data.revokedAt, event.time),
    );
}
