import type { BuiltInRole } from '@tenantry/contracts';

/**
 * Every public operation of every service, as the gateway publishes it (`GET /v1/openapi.json`),
 * with the permission it declares and what each built-in role gets through the gateway:
 * `allowed` (neither 401 nor 403, nor a 5xx: the handler may still answer 400/404/409 for the
 * dummy input) or `403`. Public operations are called without a credential. The spec fails on
 * any published operation missing here, and on rows no service publishes any more.
 */
export type Expected = 'allowed' | 403;

export interface MatrixRow {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** As in the OpenAPI document: `/v1/members/{userId}`. */
  readonly path: string;
  /** The operation's `x-permission`, checked against the document (drift fails the spec). */
  readonly permission: string;
  /** Undefined for public operations (no credential, so no role). */
  readonly expected?: Readonly<Record<BuiltInRole, Expected>>;
  /** Why a cell differs from what the catalogue alone would give. */
  readonly note?: string;
}

const roles = (allowed: readonly BuiltInRole[]): Readonly<Record<BuiltInRole, Expected>> => ({
  owner: allowed.includes('owner') ? 'allowed' : 403,
  admin: allowed.includes('admin') ? 'allowed' : 403,
  member: allowed.includes('member') ? 'allowed' : 403,
  'billing-admin': allowed.includes('billing-admin') ? 'allowed' : 403,
  viewer: allowed.includes('viewer') ? 'allowed' : 403,
});

const EVERYONE = roles(['owner', 'admin', 'member', 'billing-admin', 'viewer']);
const MANAGERS = roles(['owner', 'admin']);
/** `members:read`: every built-in role but billing-admin. */
const MEMBER_READERS = roles(['owner', 'admin', 'member', 'viewer']);
const KEY_READERS = roles(['owner', 'admin', 'member']);
const NOBODY = roles([]);

const publicOp = (method: MatrixRow['method'], path: string): MatrixRow => ({
  method,
  path,
  permission: 'public',
});

export const GATEWAY_AUTHORIZATION_MATRIX: readonly MatrixRow[] = [
  // identity: public
  publicOp('post', '/v1/signup'),
  publicOp('post', '/v1/auth/token'),
  publicOp('post', '/v1/auth/refresh'),
  publicOp('post', '/v1/auth/logout'),
  publicOp('post', '/v1/operators/token'),
  publicOp('get', '/.well-known/jwks.json'),
  publicOp('post', '/v1/invitations/accept'),
  // identity: tenant
  { method: 'get', path: '/v1/me', permission: 'authenticated', expected: EVERYONE },
  { method: 'get', path: '/v1/members', permission: 'members:read', expected: MEMBER_READERS },
  {
    method: 'get',
    path: '/v1/members/{userId}',
    permission: 'members:read',
    expected: MEMBER_READERS,
  },
  {
    method: 'delete',
    path: '/v1/members/{userId}',
    permission: 'members:remove',
    expected: MANAGERS,
  },
  { method: 'post', path: '/v1/invitations', permission: 'members:invite', expected: MANAGERS },
  { method: 'get', path: '/v1/invitations', permission: 'members:read', expected: MEMBER_READERS },
  {
    method: 'get',
    path: '/v1/invitations/{invitationId}',
    permission: 'members:read',
    expected: MEMBER_READERS,
  },
  {
    method: 'delete',
    path: '/v1/invitations/{invitationId}',
    permission: 'members:remove',
    expected: MANAGERS,
  },
  { method: 'post', path: '/v1/api-keys', permission: 'api-keys:create', expected: MANAGERS },
  {
    method: 'get',
    path: '/v1/api-keys',
    permission: 'api-keys:read',
    expected: KEY_READERS,
  },
  {
    method: 'get',
    path: '/v1/api-keys/{apiKeyId}',
    permission: 'api-keys:read',
    expected: KEY_READERS,
  },
  {
    method: 'delete',
    path: '/v1/api-keys/{apiKeyId}',
    permission: 'api-keys:revoke',
    expected: MANAGERS,
  },
  // identity: platform (operators only; no tenant role reaches them)
  {
    method: 'get',
    path: '/v1/platform/tenants',
    permission: 'platform.tenants:read',
    expected: NOBODY,
  },
  {
    method: 'get',
    path: '/v1/platform/tenants/{tenantId}',
    permission: 'platform.tenants:read',
    expected: NOBODY,
  },
  {
    method: 'post',
    path: '/v1/platform/tenants/{tenantId}/suspend',
    permission: 'platform.tenants:suspend',
    expected: NOBODY,
  },
  {
    method: 'post',
    path: '/v1/platform/tenants/{tenantId}/resume',
    permission: 'platform.tenants:resume',
    expected: NOBODY,
  },
  {
    method: 'delete',
    path: '/v1/platform/tenants/{tenantId}',
    permission: 'platform.tenants:delete',
    expected: NOBODY,
  },
  {
    method: 'post',
    path: '/v1/platform/tenants/{tenantId}/cancel-deletion',
    permission: 'platform.tenants:delete',
    expected: NOBODY,
  },
  // identity: the tenant itself (the handler refuses the empty body: nothing is deleted)
  {
    method: 'post',
    path: '/v1/tenants/current/deletion',
    permission: 'tenant:delete',
    expected: roles(['owner']),
  },
  {
    method: 'post',
    path: '/v1/platform/signing-keys/rotate',
    permission: 'platform.signing-keys:rotate',
    expected: NOBODY,
  },
  {
    method: 'post',
    path: '/v1/platform/dlq-replays',
    permission: 'platform.dlq:replay',
    expected: NOBODY,
  },
  // authorization
  { method: 'post', path: '/v1/authz/check', permission: 'authenticated', expected: EVERYONE },
  {
    method: 'post',
    path: '/v1/authz/check-batch',
    permission: 'authenticated',
    expected: EVERYONE,
  },
  {
    method: 'get',
    path: '/v1/authz/permission-catalogue',
    permission: 'authenticated',
    expected: EVERYONE,
  },
  { method: 'get', path: '/v1/me/permissions', permission: 'authenticated', expected: EVERYONE },
  { method: 'get', path: '/v1/roles', permission: 'roles:read', expected: MANAGERS },
  { method: 'get', path: '/v1/roles/{roleName}', permission: 'roles:read', expected: MANAGERS },
  { method: 'post', path: '/v1/roles', permission: 'roles:manage', expected: MANAGERS },
  { method: 'put', path: '/v1/roles/{roleName}', permission: 'roles:manage', expected: MANAGERS },
  {
    method: 'delete',
    path: '/v1/roles/{roleName}',
    permission: 'roles:manage',
    expected: MANAGERS,
  },
  { method: 'get', path: '/v1/role-assignments', permission: 'roles:read', expected: MANAGERS },
  {
    method: 'put',
    path: '/v1/role-assignments/{subjectType}/{subjectId}/roles/{roleName}',
    permission: 'roles:assign',
    expected: MANAGERS,
  },
  {
    method: 'delete',
    path: '/v1/role-assignments/{subjectType}/{subjectId}/roles/{roleName}',
    permission: 'roles:assign',
    expected: MANAGERS,
  },
  { method: 'get', path: '/v1/audit-log', permission: 'audit:read', expected: MANAGERS },
];
