import type { BuiltInRole } from '@tenantry/contracts';

/**
 * The authorization matrix of this service's public routes: for each route and method, the
 * status each built-in role gets for a valid request. `authorization-matrix.int.spec.ts` checks
 * every cell against the running service and fails on any route missing here. The lead extends it
 * to every service.
 */
export type ExpectedStatuses = Readonly<Record<BuiltInRole, number>>;

export interface MatrixRow {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  readonly path: string;
  readonly permission: string;
  readonly expected: ExpectedStatuses;
}

const everyone = (status: number): ExpectedStatuses => ({
  owner: status,
  admin: status,
  member: status,
  'billing-admin': status,
  viewer: status,
});
const ownerAndAdmin = (status: number): ExpectedStatuses => ({
  owner: status,
  admin: status,
  member: 403,
  'billing-admin': 403,
  viewer: 403,
});

export const AUTHORIZATION_MATRIX: readonly MatrixRow[] = [
  { method: 'post', path: '/v1/authz/check', permission: 'authenticated', expected: everyone(200) },
  {
    method: 'post',
    path: '/v1/authz/check-batch',
    permission: 'authenticated',
    expected: everyone(200),
  },
  {
    method: 'get',
    path: '/v1/authz/permission-catalogue',
    permission: 'authenticated',
    expected: everyone(200),
  },
  {
    method: 'get',
    path: '/v1/me/permissions',
    permission: 'authenticated',
    expected: everyone(200),
  },
  { method: 'get', path: '/v1/roles', permission: 'roles:read', expected: ownerAndAdmin(200) },
  { method: 'post', path: '/v1/roles', permission: 'roles:manage', expected: ownerAndAdmin(201) },
  {
    method: 'get',
    path: '/v1/roles/:roleName',
    permission: 'roles:read',
    expected: ownerAndAdmin(200),
  },
  {
    method: 'put',
    path: '/v1/roles/:roleName',
    permission: 'roles:manage',
    expected: ownerAndAdmin(200),
  },
  {
    method: 'delete',
    path: '/v1/roles/:roleName',
    permission: 'roles:manage',
    expected: ownerAndAdmin(204),
  },
  {
    method: 'get',
    path: '/v1/role-assignments',
    permission: 'roles:read',
    expected: ownerAndAdmin(200),
  },
  {
    method: 'put',
    path: '/v1/role-assignments/:subjectType/:subjectId/roles/:roleName',
    permission: 'roles:assign',
    expected: ownerAndAdmin(200),
  },
  {
    method: 'delete',
    path: '/v1/role-assignments/:subjectType/:subjectId/roles/:roleName',
    permission: 'roles:assign',
    expected: ownerAndAdmin(204),
  },
  { method: 'get', path: '/v1/audit-log', permission: 'audit:read', expected: ownerAndAdmin(200) },
];
