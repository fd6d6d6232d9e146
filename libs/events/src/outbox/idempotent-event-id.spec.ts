import { runWithTenantContext } from '@tenantry/tenancy';
import { idempotentEventId, uuidV5 } from './idempotent-event-id';

const scope = { tenantId: 'tenant-a', actor: { type: 'user' as const, id: 'u1' } };
const input = { idempotencyKey: 'k-1', eventType: 'billing.subscription.created' };

describe('uuidV5', () => {
  it('matches RFC 9562’s example (DNS namespace, www.example.com)', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });
});

describe('idempotentEventId', () => {
  it('is a stable version-5 UUID of tenant, actor, key, type and part', () => {
    const id = idempotentEventId(input, scope);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(idempotentEventId(input, scope)).toBe(id);
    const others = [
      idempotentEventId(input, { ...scope, tenantId: 'tenant-b' }),
      idempotentEventId(input, { ...scope, actor: { type: 'user', id: 'u2' } }),
      idempotentEventId(input, { ...scope, actor: { type: 'api_key', id: 'u1' } }),
      idempotentEventId({ ...input, idempotencyKey: 'k-2' }, scope),
      idempotentEventId({ ...input, eventType: 'billing.subscription.cancelled' }, scope),
      idempotentEventId({ ...input, part: 'line-1' }, scope),
    ];
    expect(new Set([id, ...others]).size).toBe(others.length + 1);
  });

  it('cannot be spelled two ways by moving a separator between fields', () => {
    expect(
      idempotentEventId({ ...input, idempotencyKey: 'a:b' }, { ...scope, tenantId: 't' }),
    ).not.toBe(idempotentEventId({ ...input, idempotencyKey: 'b' }, { ...scope, tenantId: 't:a' }));
  });

  it('takes tenant and actor from the current context', () => {
    const fromContext = runWithTenantContext({ ...scope, requestId: 'r1' }, () =>
      idempotentEventId(input),
    );
    expect(fromContext).toBe(idempotentEventId(input, scope));
    expect(() => idempotentEventId(input)).toThrow(/tenant context/);
  });
});

describe('idempotentEventId without a key', () => {
  it('is undefined, so the outbox picks a random id', () => {
    expect(
      idempotentEventId({ idempotencyKey: undefined, eventType: 'billing.plan.created' }, scope),
    ).toBeUndefined();
  });
});
