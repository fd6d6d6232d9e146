import { randomUUID } from 'node:crypto';
import { waitFor } from '@tenantry/testing';
import { call } from './api-client';

export const PASSWORD = 'correct horse battery staple';

export interface TenantSession {
  readonly tenantId: string;
  readonly userId: string;
  readonly email: string;
  readonly accessToken: string;
  readonly refreshToken: string;
}

/** The actor's roles as authorization sees them, through the gateway. */
export async function rolesOf(api: string, token: string): Promise<string[] | undefined> {
  const response = await call<{ roles?: string[] }>(api, 'GET', '/v1/me/permissions', { token });
  return response.status === 200 ? (response.body.roles ?? []) : undefined;
}

/** Waits until authorization has applied identity's event giving the actor `role`. */
export async function waitForRole(api: string, token: string, role: string): Promise<void> {
  await waitFor(
    `authorization to give the actor the role ${role}`,
    async () => (await rolesOf(api, token))?.includes(role) === true,
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}

async function logIn(api: string, email: string, tenant?: string): Promise<TenantSession> {
  const login = await call(api, 'POST', '/v1/auth/token', {
    body: { email, password: PASSWORD, ...(tenant ? { tenant } : {}) },
  });
  if (login.status !== 200) throw new Error(`login of ${email}: ${login.status}`);
  const accessToken = String(login.body.accessToken);
  const claims = JSON.parse(
    Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString(),
  ) as { sub: string; tid: string };
  return {
    tenantId: claims.tid,
    userId: claims.sub,
    email,
    accessToken,
    refreshToken: String(login.body.refreshToken),
  };
}

/** Signs a tenant up through the gateway and waits until its creator is owner at authorization. */
export async function signUpOwner(
  api: string,
  name = `Acme ${randomUUID().slice(0, 8)}`,
): Promise<TenantSession> {
  const email = `owner-${randomUUID()}@example.test`;
  const signup = await call(api, 'POST', '/v1/signup', {
    body: { tenantName: name, email, password: PASSWORD, displayName: 'Owner' },
  });
  if (signup.status !== 201) throw new Error(`signup: ${signup.status}`);
  const session = await logIn(api, email);
  await waitForRole(api, session.accessToken, 'owner');
  return session;
}

/**
 * A user holding `role` in the inviter's tenant, made the way a customer would: an invitation
 * created and accepted through the gateway (identity emits the membership, authorization assigns
 * the role). `email` lets an existing account join a second tenant.
 */
export async function inviteUser(
  api: string,
  inviter: TenantSession,
  role: string,
  email = `${role}-${randomUUID()}@example.test`,
): Promise<TenantSession> {
  const invitation = await call(api, 'POST', '/v1/invitations', {
    token: inviter.accessToken,
    body: { email, role },
  });
  if (invitation.status !== 201) throw new Error(`invitation: ${invitation.status}`);
  const accepted = await call(api, 'POST', '/v1/invitations/accept', {
    body: { token: invitation.body.token, password: PASSWORD, displayName: role },
  });
  if (accepted.status !== 201) throw new Error(`accept: ${accepted.status}`);
  const session = await logIn(api, email, inviter.tenantId);
  await waitForRole(api, session.accessToken, role);
  return session;
}
