import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { BuiltInRole } from '@tenantry/contracts';
import { BUILT_IN_ROLE_NAMES } from '../src/domain/built-in-roles';
import { AUTHORIZATION_MATRIX } from './authorization-matrix';
import type { MatrixRow } from './authorization-matrix';
import { AuthorizationTestBed } from './support/authorization-test-bed';
import type { TestTenant } from './support/authorization-test-bed';

const key = (row: { method: string; path: string }): string =>
  `${row.method.toUpperCase()} ${row.path}`;

interface Prepared {
  readonly path: string;
  readonly body?: unknown;
}

describe('authorization matrix (route x method x role)', () => {
  let bed: AuthorizationTestBed;
  let t: TestTenant;

  beforeAll(async () => {
    bed = await new AuthorizationTestBed().setUp();
    t = await bed.tenantWithEveryRole();
  });

  afterAll(async () => {
    await bed?.tearDown();
  });

  const owner = () => bed.asUser(t.ownerId);
  const uniqueRole = () => `m-${randomBytes(4).toString('hex')}`;
  async function customRole(): Promise<string> {
    const name = uniqueRole();
    const created = await bed.call('post', '/v1/roles', t.tenantId, owner(), {
      name,
      permissions: ['reports:read'],
    });
    expect(created.status).toBe(201);
    return name;
  }

  /** A valid request for the route (set up so that only authorization can refuse it). */
  const prepare: Record<string, () => Promise<Prepared>> = {
    'POST /v1/authz/check': async () => ({
      path: '/v1/authz/check',
      body: { permission: 'tenant:read' },
    }),
    'POST /v1/authz/check-batch': async () => ({
      path: '/v1/authz/check-batch',
      body: { permissions: ['tenant:read', 'roles:read'] },
    }),
    'GET /v1/authz/permission-catalogue': async () => ({ path: '/v1/authz/permission-catalogue' }),
    'GET /v1/me/permissions': async () => ({ path: '/v1/me/permissions' }),
    'GET /v1/roles': async () => ({ path: '/v1/roles' }),
    'POST /v1/roles': async () => ({
      path: '/v1/roles',
      body: { name: uniqueRole(), permissions: ['tenant:read'] },
    }),
    'GET /v1/roles/:roleName': async () => ({ path: '/v1/roles/viewer' }),
    'PUT /v1/roles/:roleName': async () => ({
      path: `/v1/roles/${await customRole()}`,
      body: { permissions: ['reports:read', 'tenant:read'] },
    }),
    'DELETE /v1/roles/:roleName': async () => ({ path: `/v1/roles/${await customRole()}` }),
    'GET /v1/role-assignments': async () => ({ path: '/v1/role-assignments?role=owner' }),
    'PUT /v1/role-assignments/:subjectType/:subjectId/roles/:roleName': async () => ({
      path: `/v1/role-assignments/user/${t.users.member}/roles/${await customRole()}`,
    }),
    'DELETE /v1/role-assignments/:subjectType/:subjectId/roles/:roleName': async () => {
      const role = await customRole();
      const path = `/v1/role-assignments/user/${t.users.member}/roles/${role}`;
      expect((await bed.call('put', path, t.tenantId, owner())).status).toBe(200);
      return { path };
    },
    'GET /v1/audit-log': async () => ({ path: '/v1/audit-log?limit=5' }),
  };

  it('covers every public route of the service, with the permission it declares', () => {
    const routes = bed.service.api.publicRoutes.summaries();
    const missing = routes.filter(
      (route) => !AUTHORIZATION_MATRIX.some((row) => key(row) === key(route)),
    );
    expect(missing).toEqual([]);
    const stale = AUTHORIZATION_MATRIX.filter(
      (row) => !routes.some((route) => key(route) === key(row)),
    );
    expect(stale).toEqual([]);
    for (const route of routes) {
      const row = AUTHORIZATION_MATRIX.find((r) => key(r) === key(route)) as MatrixRow;
      expect([key(route), row.permission]).toEqual([key(route), route.permission]);
      expect(prepare[key(route)]).toBeDefined();
    }
  });

  const cells = AUTHORIZATION_MATRIX.flatMap((row) =>
    BUILT_IN_ROLE_NAMES.map((role): [string, BuiltInRole, number, MatrixRow] => [
      key(row),
      role,
      row.expected[role],
      row,
    ]),
  );

  it.each(cells)('%s as %s -> %i', async (routeKey, role, expected, row) => {
    const { path, body } = await prepare[routeKey]!();
    const response = await bed.call(row.method, path, t.tenantId, bed.asUser(t.users[role]), body);
    expect([routeKey, role, response.status, response.body]).toEqual([
      routeKey,
      role,
      expected,
      expect.anything(),
    ]);
  });

  it.each(AUTHORIZATION_MATRIX.map((row) => [key(row), row] as const))(
    '%s without a signed context -> 401',
    async (routeKey, row) => {
      const { path, body } = await prepare[routeKey]!();
      const pending = request(bed.service.app)[row.method](path);
      const response = await (body === undefined ? pending : pending.send(body as object));
      expect(response.status).toBe(401);
    },
  );
});
