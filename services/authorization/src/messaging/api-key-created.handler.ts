import type { ApiKeyCreated } from '@tenantry/contracts';
import type { EventHandler } from '@tenantry/events';
import type { IdentityPolicySync } from '../application/sync-identity/identity-policy-sync';
import { eventTime } from './event-time';

export function apiKeyCreatedHandler(sync: IdentityPolicySync): EventHandler<ApiKeyCreated> {
  return (event, tx) =>
    sync.subjectAdded(
      tx,
      'api_key',
      event.data.apiKeyId,
      event.data.role,
      eventTime(event.data.createdAt, event.time),
    );
}
