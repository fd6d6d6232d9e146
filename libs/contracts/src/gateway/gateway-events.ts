import { defineEvent } from '@tenantry/events';

export interface ApiCallCompleted {
  tenantId: string;
  actorType: string;
  actorId: string;
  method: string;
  /** The route pattern (`/v1/invitations/:invitationId`), never the raw path. */
  route: string;
  /** The upstream service that served it, or `gateway`. */
  service: string;
  status: number;
  latencyMs: number;
  requestId: string;
  completedAt: string;
}

/** One per completed API call, for billing's usage ledger. Delivery: see the gateway's usage recorder. */
export const ApiCallCompletedEvent = defineEvent<ApiCallCompleted>({
  type: 'gateway.api-call.completed',
  topic: 'gateway.usage',
  schema: {
    type: 'record',
    name: 'ApiCallCompleted',
    namespace: 'tenantry.gateway',
    doc: 'An API call finished at the gateway (any status).',
    fields: [
      { name: 'tenantId', type: 'string' },
      { name: 'actorType', type: 'string' },
      { name: 'actorId', type: 'string' },
      { name: 'method', type: 'string' },
      { name: 'route', type: 'string' },
      { name: 'service', type: 'string' },
      { name: 'status', type: 'int' },
      { name: 'latencyMs', type: 'double' },
      { name: 'requestId', type: 'string' },
      { name: 'completedAt', type: 'string' },
    ],
  },
});

export const GATEWAY_EVENTS = [ApiCallCompletedEvent] as const;
