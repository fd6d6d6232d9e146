import { INTERNAL_AUTHZ_CHECK_PATH, PERMISSIONS } from '@tenantry/contracts';
import { BUILT_IN_ROLE_NAMES, BUILT_IN_ROLE_PERMISSIONS } from '../src/domain/built-in-roles';
import type { TestTenant } from './support/authorization-test-bed';
import { AuthorizationTestBed } from './support/authorization-test-bed';

describe('tenant isolation of decisions', () => {
  let bed: AuthorizationTestBed;
  let a: TestTenant;
  let b: TestTenant;

  beforeAll(async () => {
    bed = await new AuthorizationTestBed().setUp();
    [a, b] = await Promise.all([bed.tenantWithEveryRole(), bed.tenantWithEveryRole()]);
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  it.each(BUILT_IN_ROLE_NAMES)(
    '%s of tenant A holds exactly its role’s permissions in A',
    async (role) => {
      const response = await bed.call(
        'post',
        '/v1/authz/check-batch',
        a.tenantId,
        bed.asUser(a.users[role]),
        { permissions: [...PERMISSIONS] },
      );
      expect(response.status).toBe(200);
      const granted = Object.entries(response.body.decisions as Record<string, boolean>)
        .filter(([, allowed]) => allowed)
        .map(([permission]) => permission)
        .sort();
      expect(granted).toEqual([...BUILT_IN_ROLE_PERMISSIONS[role]].sort());
    },
  );

  it.each(BUILT_IN_ROLE_NAMES)('%s of tenant A is granted nothing in tenant B', async (role) => {
    const userOfA = bed.asUser(a.users[role]);
    const asked = await bed.call('post', '/v1/authz/check-batch', b.tenantId, userOfA, {
      permissions: [...PERMISSIONS],
    });
    expect(asked.status).toBe(200);
    expect(Object.values(asked.body.decisions)).toEqual(PERMISSIONS.map(() => false));

    const internal = await bed.call(
      'post',
      INTERNAL_AUTHZ_CHECK_PATH,
      b.tenantId,
      {
        type: 'service',
        id: 'gateway',
      },
      { tenantId: b.tenantId, subject: userOfA, permissions: [...PERMISSIONS] },
    );
    expect(internal.status).toBe(200);
    expect(Object.values(internal.body.decisions)).toEqual(PERMISSIONS.map(() => false));

    const me = await bed.call('get', '/v1/me/permissions', b.tenantId, userOfA);
    expect(me.body).toMatchObject({ roles: [], permissions: [] });
    const roles = await bed.call('get', '/v1/roles', b.tenantId, userOfA);
    expect(roles.status).toBe(403);
  });

  it('answers the gateway’s internal check only for service actors', async () => {
    const body = {
      tenantId: a.tenantId,
      subject: { type: 'user', id: a.users.admin },
      permissions: ['roles:assign', 'tenant:delete', 'not-a-permission'],
    };
    const asService = await bed.call(
      'post',
      INTERNAL_AUTHZ_CHECK_PATH,
      a.tenantId,
      {
        type: 'service',
        id: 'gateway',
      },
      body,
    );
    expect(asService.status).toBe(200);
    expect(asService.body).toEqual({
      decisions: { 'roles:assign': true, 'tenant:delete': false, 'not-a-permission': false },
    });
    const asOwner = await bed.call(
      'post',
      INTERNAL_AUTHZ_CHECK_PATH,
      a.tenantId,
      bed.asUser(a.ownerId),
      body,
    );
    expect(asOwner.status).toBe(403);
    const operator = await bed.call(
      'post',
      INTERNAL_AUTHZ_CHECK_PATH,
      a.tenantId,
      {
        type: 'service',
        id: 'gateway',
      },
      { ...body, subject: { type: 'operator', id: 'op-1' } },
    );
    expect(Object.values(operator.body.decisions)).toEqual([false, false, false]);
  });

  it('refuses (503), never allows, when the policy cannot be loaded', async () => {
    // A replica whose database pool is gone (stopped): its HTTP app still answers, without data.
    const broken = await bed.startInstance();
    await broken.stop();
    const response = await bed.call(
      'post',
      INTERNAL_AUTHZ_CHECK_PATH,
      a.tenantId,
      { type: 'service', id: 'gateway' },
      {
        tenantId: a.tenantId,
        subject: { type: 'user', id: a.ownerId },
        permissions: ['tenant:read'],
      },
      broken,
    );
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
  });
});
