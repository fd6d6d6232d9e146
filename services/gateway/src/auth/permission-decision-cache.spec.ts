import { PermissionDecisionCache } from './permission-decision-cache';

const key = { type: 'api_key', id: 'key-1' };
const other = { type: 'api_key', id: 'key-10' };

describe('PermissionDecisionCache.invalidateActor', () => {
  it('drops every decision about the actor and none about others', async () => {
    const cache = new PermissionDecisionCache({ ttlMs: 60_000 });
    const allow = () => Promise.resolve(true);
    await cache.get('t1', key, 'roles:read', allow);
    await cache.get('t1', key, 'api-keys:read', allow);
    await cache.get('t1', other, 'roles:read', allow);
    await cache.get('t2', key, 'roles:read', allow);

    expect(cache.invalidateActor('t1', key)).toBe(2);
    expect((await cache.get('t1', key, 'roles:read', allow)).cached).toBe(false);
    // `key-10` shares `key-1` as a prefix of its id and must survive.
    expect((await cache.get('t1', other, 'roles:read', allow)).cached).toBe(true);
    expect((await cache.get('t2', key, 'roles:read', allow)).cached).toBe(true);
  });

  it('does not store an answer that was in flight when the actor was invalidated', async () => {
    const cache = new PermissionDecisionCache({ ttlMs: 60_000 });
    let release: (allowed: boolean) => void = () => undefined;
    const pending = cache.get(
      't1',
      key,
      'roles:read',
      () => new Promise<boolean>((resolve) => (release = resolve)),
    );
    cache.invalidateActor('t1', key);
    release(true);
    await pending;
    expect((await cache.get('t1', key, 'roles:read', () => Promise.resolve(false))).allowed).toBe(
      false,
    );
  });
});
