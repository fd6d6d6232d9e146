import { randomUUID } from 'node:crypto';
import type { BuiltInRole } from '@tenantry/contracts';
import { call } from '../support/api-client';
import type { ApiResponse } from '../support/api-client';
import { E2ePlatform } from '../support/platform';
import { inviteUser, signUpOwner, waitForRole } from '../support/tenant-users';
import type { TenantSession } from '../support/tenant-users';
import { GATEWAY_AUTHORIZATION_MATRIX } from './authorization-matrix';
import type { MatrixRow } from './authorization-matrix';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const ROLES: readonly BuiltInRole[] = ['owner', 'admin', 'member', 'billing-admin', 'viewer'];

const key = (row: { method: string; path: string }): string =>
  `${row.method.toUpperCase()} ${row.path}`;

/** Dummy values for path parameters: well-formed, naming nothing, so nothing is changed. */
function concretePath(path: string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, (_match, name: string) => {
    if (name === 'roleName') return 'no-such-role';
    if (name === 'subjectType') return 'user';
    return randomUUID();
  });
}

async function callOperation(api: string, row: MatrixRow, token?: string): Promise<ApiResponse> {
  const withBody = row.method === 'post' || row.method === 'put' || row.method === 'patch';
  return call(api, row.method.toUpperCase(), concretePath(row.path), {
    token,
    ...(withBody ? { body: {} } : {}),
  });
}

function outcomeOf(status: number): 'allowed' | number {
  return status === 401 || status === 403 || status >= 500 ? status : 'allowed';
}

describe('the authorization matrix through the gateway (real identity, authorization, gateway)', () => {
  const platform = new E2ePlatform();
  let api: string;
  let published: { method: string; path: string; permission: unknown }[];
  const users = {} as Record<BuiltInRole, TenantSession>;

  beforeAll(async () => {
    await platform.start();
    api = platform.gatewayUrl;
    const document = await call<{ paths: Record<string, Record<string, Record<string, unknown>>> }>(
      api,
      'GET',
      '/v1/openapi.json',
    );
    expect(document.status).toBe(200);
    published = Object.entries(document.body.paths).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method) => ({
        method,
        path,
        permission: item[method]?.['x-permission'],
      })),
    );
    users.owner = await signUpOwner(api);
    const others = ROLES.filter((role) => role !== 'owner');
    const invited = await Promise.all(others.map((role) => inviteUser(api, users.owner, role)));
    others.forEach((role, index) => (users[role] = invited[index] as TenantSession));
  });

  afterAll(async () => {
    await platform.stop();
  });

  it('covers every operation the gateway publishes, with the permission it declares', () => {
    // Both services' documents are merged in: a missing one would shrink the check silently.
    expect(published.some((op) => op.path === '/v1/roles')).toBe(true);
    expect(published.some((op) => op.path === '/v1/members')).toBe(true);
    const missing = published.filter(
      (op) => !GATEWAY_AUTHORIZATION_MATRIX.some((row) => key(row) === key(op)),
    );
    expect(missing.map(key)).toEqual([]);
    const stale = GATEWAY_AUTHORIZATION_MATRIX.filter(
      (row) => !published.some((op) => key(op) === key(row)),
    );
    expect(stale.map(key)).toEqual([]);
    for (const op of published) {
      const row = GATEWAY_AUTHORIZATION_MATRIX.find((r) => key(r) === key(op)) as MatrixRow;
      expect([key(op), op.permission]).toEqual([key(op), row.permission]);
    }
  });

  const publicRows = GATEWAY_AUTHORIZATION_MATRIX.filter((row) => !row.expected);
  it.each(publicRows.map((row) => [key(row), row] as const))(
    '%s is public: answered without a credential',
    async (_key, row) => {
      const response = await callOperation(api, row);
      expect([key(row), outcomeOf(response.status)]).toEqual([key(row), 'allowed']);
    },
  );

  const cells = GATEWAY_AUTHORIZATION_MATRIX.flatMap((row) =>
    row.expected ? ROLES.map((role) => [key(row), role, row.expected![role], row] as const) : [],
  );
  it.each(cells)('%s as %s -> %s', async (_key, role, expected, row) => {
    const response = await callOperation(api, row, users[role].accessToken);
    expect([key(row), role, outcomeOf(response.status)]).toEqual([key(row), role, expected]);
    if (expected === 403) {
      expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
  });

  it('every protected operation answers 401 without a credential', async () => {
    for (const row of GATEWAY_AUTHORIZATION_MATRIX.filter((r) => r.expected)) {
      const response = await callOperation(api, row);
      expect([key(row), response.status]).toEqual([key(row), 401]);
    }
  });

  it('a role in tenant A grants nothing in tenant B', async () => {
    const a = users.owner;
    const b = await signUpOwner(api);
    // A's owner joins B as a viewer: the same account, another tenant, another role.
    const inB = await inviteUser(api, b, 'viewer', a.email);
    expect(inB.tenantId).toBe(b.tenantId);
    expect(inB.userId).toBe(a.userId);
    await waitForRole(api, inB.accessToken, 'viewer');

    const asB = await call<{ roles: string[]; permissions: string[] }>(
      api,
      'GET',
      '/v1/me/permissions',
      { token: inB.accessToken },
    );
    expect(asB.body.roles).toEqual(['viewer']);
    expect(asB.body.permissions).not.toContain('roles:assign');
    for (const [method, path, body] of [
      ['GET', '/v1/roles', undefined],
      ['GET', '/v1/audit-log', undefined],
      ['POST', '/v1/invitations', { email: `x-${randomUUID()}@example.test`, role: 'admin' }],
      ['PUT', `/v1/role-assignments/user/${a.userId}/roles/owner`, undefined],
    ] as const) {
      const asViewerInB = await call(api, method, path, { token: inB.accessToken, body });
      expect([method, path, asViewerInB.status]).toEqual([method, path, 403]);
    }
    // The same actor keeps its owner rights in A: decisions are per tenant, cached per tenant.
    expect((await call(api, 'GET', '/v1/roles', { token: a.accessToken })).status).toBe(200);
    // Forged tenant headers change nothing: the token's tenant is the one checked.
    const forged = await call(api, 'GET', '/v1/roles', {
      token: inB.accessToken,
      headers: { 'x-tenant-id': a.tenantId },
    });
    expect(forged.status).toBe(403);
  });
});
