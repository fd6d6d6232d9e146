import { TenantDeletedRefusal, refuseEventAfterDeletion } from './tenant-deleted-refusal';

describe('refuseEventAfterDeletion', () => {
  const deletedAt = new Date('2026-03-20T00:00:00Z');
  const event = (at: string) => ({
    type: 'identity.membership.added',
    tenantId: 't-1',
    at: new Date(at),
  });

  it('refuses an event that happened after the purge, naming the tenant and the reason', () => {
    expect(() => refuseEventAfterDeletion(event('2026-03-20T00:00:01Z'), deletedAt)).toThrow(
      TenantDeletedRefusal,
    );
    expect(() => refuseEventAfterDeletion(event('2026-03-21T00:00:00Z'), deletedAt)).toThrow(
      /^tenant deleted: identity.membership.added of tenant t-1/,
    );
  });

  it('lets the caller drop an earlier event delivered late', () => {
    expect(() => refuseEventAfterDeletion(event('2026-03-19T23:59:59Z'), deletedAt)).not.toThrow();
    expect(() => refuseEventAfterDeletion(event('2026-03-20T00:00:00Z'), deletedAt)).not.toThrow();
  });
});
