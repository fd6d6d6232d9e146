import { PolicyChangedEvent, RoleAssignedEvent, RoleRevokedEvent } from '@tenantry/contracts';
import type { ReadModelDeps } from './read-model-deps';
import type { ReadModelRegistration } from './read-model-handler';
import { readModelHandler } from './read-model-handler';

/** Authorization's events -> roles over time and activity. */
export function authorizationEventHandlers(deps: ReadModelDeps): ReadModelRegistration[] {
  return [
    readModelHandler(deps, RoleAssignedEvent, {
      stream: 'members',
      time: (d) => d.assignedAt,
      apply: (event, tx, at) =>
        deps.members.recordRole(tx, {
          eventId: event.id,
          subjectType: event.data.subjectType,
          subjectId: event.data.subjectId,
          role: event.data.role,
          kind: 'assigned',
          at,
          actorType: event.actortype,
          actorId: event.actorid,
        }),
      activity: ({ data }) => `Role ${data.role} assigned to ${data.subjectType} ${data.subjectId}`,
    }),
    readModelHandler(deps, RoleRevokedEvent, {
      stream: 'members',
      time: (d) => d.revokedAt,
      apply: (event, tx, at) =>
        deps.members.recordRole(tx, {
          eventId: event.id,
          subjectType: event.data.subjectType,
          subjectId: event.data.subjectId,
          role: event.data.role,
          kind: 'revoked',
          at,
          actorType: event.actortype,
          actorId: event.actorid,
        }),
      activity: ({ data }) =>
        `Role ${data.role} revoked from ${data.subjectType} ${data.subjectId}`,
    }),
    readModelHandler(deps, PolicyChangedEvent, {
      stream: 'activity',
      time: (d) => d.changedAt,
      // Assignments have their own lines above; only role definitions are recorded here, and
      // the rest (most policy changes) cost nothing but their inbox row.
      relevant: ({ data }) => data.change.startsWith('role.'),
      activity: ({ data }) => `Policy changed: ${data.change}`,
    }),
  ];
}
