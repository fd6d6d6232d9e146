import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import { logIn } from '../application/issue-tokens/log-in';
import { logOut } from '../application/issue-tokens/log-out';
import { refreshSession } from '../application/issue-tokens/refresh-session';
import type { IdentityDeps } from '../application/identity-deps';
import { operatorLogIn } from '../application/operators/operator-log-in';
import { signUp } from '../application/sign-up/sign-up';
import { emailSchema } from '../domain/email-address';
import { isUuid } from '../domain/uuid';
import { requestMetaOf } from './request-meta';
import { problem, sessionTokensSchema } from './response-schemas';

const password = z.string().min(12).max(256);
const refreshBody = z.strictObject({ refreshToken: z.string().min(1).max(512) });

/** Sign-up, sessions and operator login: the public routes that make tokens. */
export function authRoutes(routes: ApiRoutes, deps: IdentityDeps): void {
  routes.add(
    {
      method: 'post',
      path: '/v1/signup',
      summary: 'Create a tenant and its owner',
      tags: ['auth'],
      permission: 'public',
      body: z.strictObject({
        tenantName: z.string().trim().min(1).max(100),
        tenantSlug: z
          .string()
          .regex(/^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/, 'lowercase letters, digits and dashes')
          .refine((slug) => !isUuid(slug), 'a slug cannot look like a tenant id')
          .optional(),
        email: emailSchema,
        password,
        displayName: z.string().trim().min(1).max(100),
      }),
      responses: {
        201: {
          description: 'Tenant created; sign in with POST /v1/auth/token',
          schema: z.object({
            tenantId: z.uuid(),
            tenantSlug: z.string(),
            userId: z.uuid(),
            role: z.literal('owner'),
          }),
        },
        400: problem('Invalid body'),
        401: problem('The email has an account and the password is not its password'),
        409: problem('The slug is taken'),
        429: problem('Too many failed attempts'),
      },
    },
    async ({ body }, req, res) => {
      res.status(201).json(await signUp(deps, body, requestMetaOf(req)));
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/auth/token',
      summary: 'Exchange email and password for an access token and a refresh token',
      tags: ['auth'],
      permission: 'public',
      body: z.strictObject({
        email: z.string().max(254),
        password: z.string().min(1).max(256),
        tenant: z.string().min(1).max(64).optional(),
      }),
      responses: {
        200: { description: 'Tokens for one tenant', schema: sessionTokensSchema },
        401: problem('Invalid credentials (the same for every cause)'),
        403: problem('The tenant is suspended'),
        409: problem('The account belongs to several tenants: name one'),
        429: problem('Too many failed attempts'),
      },
    },
    async ({ body }, req, res) => {
      res.setHeader('cache-control', 'no-store');
      res.json(await logIn(deps, body, requestMetaOf(req).clientIp));
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/auth/refresh',
      summary: 'Rotate a refresh token into a new token pair',
      tags: ['auth'],
      permission: 'public',
      body: refreshBody,
      responses: {
        200: {
          description: 'New tokens; the presented refresh token is spent',
          schema: sessionTokensSchema,
        },
        401: problem('Unknown, expired or revoked refresh token (reuse revokes the session)'),
        403: problem('The tenant is suspended'),
      },
    },
    async ({ body }, req, res) => {
      res.setHeader('cache-control', 'no-store');
      res.json(await refreshSession(deps, body.refreshToken, requestMetaOf(req).requestId));
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/auth/logout',
      summary:
        'End the session a refresh token belongs to, with its access tokens (refused within 1 s)',
      tags: ['auth'],
      permission: 'public',
      body: refreshBody,
      responses: {
        204: {
          description:
            'Session ended (also when the token was unknown): its refresh tokens at once, its ' +
            'access tokens at the gateway within 1 s, typically tens of milliseconds',
        },
      },
    },
    async ({ body }, req, res) => {
      await logOut(deps, body.refreshToken, requestMetaOf(req).requestId);
      res.status(204).end();
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/operators/token',
      summary: 'Platform operator login (access token with act=operator, no tenant)',
      tags: ['platform'],
      permission: 'public',
      body: z.strictObject({ email: z.string().max(254), password: z.string().min(1).max(256) }),
      responses: {
        200: {
          description: 'An operator access token',
          schema: z.object({
            tokenType: z.literal('Bearer'),
            accessToken: z.string(),
            expiresIn: z.number().int(),
            operatorId: z.uuid(),
          }),
        },
        401: problem('Invalid credentials'),
        429: problem('Too many failed attempts'),
      },
    },
    async ({ body }, req, res) => {
      res.setHeader('cache-control', 'no-store');
      res.json(await operatorLogIn(deps, body, requestMetaOf(req).clientIp));
    },
  );
}
