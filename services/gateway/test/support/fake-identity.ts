import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import type { Request } from 'express';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { JWK, KeyLike } from 'jose';
import { z } from 'zod';
import { ApiRoutes } from '@tenantry/http';
import { CONTEXT_HEADERS, verifyContextToken } from '@tenantry/tenancy';
import type { ContextTokenKey, TenantContext } from '@tenantry/tenancy';

export const ISSUER = 'tenantry-identity';
export const AUDIENCE = 'tenantry-api';

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyLike;
  readonly publicJwk: JWK;
}

export interface FakeApiKey {
  readonly apiKeyId: string;
  readonly tenantId: string;
  readonly role: string;
  readonly expiresAt: string | null;
}

/** What the echo route saw: the proof of what the gateway stripped and stamped. */
export interface EchoedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: unknown;
  /** The context token, verified as a service would (audience `identity`). */
  readonly context: TenantContext | null;
  readonly contextError: string | null;
}

const noop = async (): Promise<void> => undefined;

/** The OpenAPI document identity would serve, built the way services build it. */
function identityRoutes(): ApiRoutes {
  const ok = { 200: { description: 'ok' } };
  return new ApiRoutes({ title: 'identity (fake)', version: '0' })
    .add(
      {
        method: 'post',
        path: '/v1/signup',
        summary: 'Sign up',
        tags: ['identity'],
        permission: 'public',
        body: z.strictObject({ email: z.string() }),
        responses: ok,
      },
      noop,
    )
    .add(
      {
        method: 'post',
        path: '/v1/auth/token',
        summary: 'Log in',
        permission: 'public',
        responses: ok,
      },
      noop,
    )
    .add(
      {
        method: 'get',
        path: '/v1/me',
        summary: 'Who am I',
        permission: 'authenticated',
        responses: ok,
      },
      noop,
    )
    .add(
      {
        method: 'get',
        path: '/v1/members/:memberId',
        summary: 'One member',
        permission: 'members:read',
        params: z.object({ memberId: z.string() }),
        responses: ok,
      },
      noop,
    )
    .add(
      {
        method: 'get',
        path: '/v1/tenants/:slug/branding',
        summary: 'Public branding of a tenant (declared public only in the document)',
        permission: 'public',
        params: z.object({ slug: z.string() }),
        responses: ok,
      },
      noop,
    )
    .add(
      {
        method: 'post',
        path: '/internal/v1/api-keys/verify',
        summary: 'Internal: never published by the gateway',
        permission: 'public',
        responses: ok,
      },
      noop,
    )
    .add(
      {
        method: 'get',
        path: '/v1/billing/invoices',
        summary: 'Not identity’s at the gateway: must not be published as identity’s',
        permission: 'public',
        responses: ok,
      },
      noop,
    );
}

/**
 * A test double of the identity service at its fixed contract with the gateway: JWKS, API-key
 * verification, tenant status and its OpenAPI document; plus echo routes standing in for
 * identity's public API, which return what they received.
 */
export class FakeIdentity {
  readonly keys = new Map<string, SigningKey>();
  readonly apiKeys = new Map<string, FakeApiKey>();
  readonly tenantStatus = new Map<string, 'active' | 'suspended' | 'deleted'>();
  /** Contexts of the gateway's calls to internal routes. */
  readonly internalCallers: TenantContext[] = [];
  echoed = 0;
  jwksFetches = 0;
  private server: Server | undefined;
  url = '';

  constructor(private readonly contextKey: ContextTokenKey) {}

  async start(): Promise<this> {
    const app = express();
    app.use(express.json({ limit: '1mb' }));
    app.get('/.well-known/jwks.json', (_req, res) => {
      this.jwksFetches += 1;
      res.json({ keys: [...this.keys.values()].map((key) => key.publicJwk) });
    });
    app.get('/openapi.json', (_req, res) => {
      res.json(identityRoutes().openApi());
    });

    const internal = express.Router();
    internal.use(async (req, res, next) => {
      try {
        const context = await verifyContextToken(
          String(req.headers[CONTEXT_HEADERS.contextToken] ?? ''),
          this.contextKey,
          { audience: 'identity' },
        );
        if (context.tenantId !== 'platform' || context.actor.type !== 'service') {
          res.status(403).json({ error: 'not the platform' });
          return;
        }
        this.internalCallers.push(context);
        next();
      } catch {
        res.status(401).json({ error: 'no valid context' });
      }
    });
    internal.post('/v1/api-keys/verify', (req, res) => {
      const key = this.apiKeys.get(String(req.body?.key));
      if (!key) res.status(401).json({ error: 'invalid key' });
      else res.json(key);
    });
    internal.get('/v1/tenants/:tenantId/status', (req, res) => {
      const status = this.tenantStatus.get(req.params.tenantId);
      if (!status) res.status(404).json({ error: 'no such tenant' });
      else res.json({ tenantId: req.params.tenantId, status });
    });
    app.use('/internal', internal);

    app.get('/v1/me/slow', async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 3000));
      res.json({ late: true });
    });
    app.get('/v1/me/crash', (req) => {
      req.socket.destroy();
    });
    app.get('/v1/me/fail', (_req, res) => {
      res.status(500).type('text/plain').send('stack trace: at secret.ts:12');
    });
    const echo = async (req: Request, res: express.Response): Promise<void> => {
      this.echoed += 1;
      let context: TenantContext | null = null;
      let contextError: string | null = null;
      const token = req.headers[CONTEXT_HEADERS.contextToken];
      if (typeof token === 'string') {
        try {
          // As a real service does: a shared token's request id is the stamped `x-request-id`.
          const requestId = req.headers[CONTEXT_HEADERS.requestId];
          context = await verifyContextToken(token, this.contextKey, {
            audience: 'identity',
            requestId: typeof requestId === 'string' ? requestId : undefined,
          });
        } catch (error) {
          contextError = (error as Error).message;
        }
      }
      const echoed: EchoedRequest = {
        method: req.method,
        url: req.originalUrl,
        headers: req.headers,
        body: req.body ?? null,
        context,
        contextError,
      };
      res.setHeader('x-context-token', 'must-not-reach-the-client');
      res.json(echoed);
    };
    app.all('/v1/*splat', echo);
    app.all('/.well-known/*splat', echo);

    this.server = await new Promise<Server>((resolve) => {
      const server = app.listen(0, '127.0.0.1', () => resolve(server));
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  async addSigningKey(kid: string = randomUUID()): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    this.keys.set(kid, { kid, privateKey, publicJwk });
    return kid;
  }

  removeSigningKey(kid: string): void {
    this.keys.delete(kid);
  }

  publicJwk(kid: string): JWK {
    const key = this.keys.get(kid);
    if (!key) throw new Error(`no key ${kid}`);
    return key.publicJwk;
  }

  /** An access token as identity issues it; `claims` and `options` bend it for negative tests. */
  async accessToken(
    claims: Record<string, unknown> = {},
    options: { kid?: string; privateKey?: KeyLike; now?: number } = {},
  ): Promise<string> {
    const kid = options.kid ?? [...this.keys.keys()][0];
    if (!kid) throw new Error('add a signing key first');
    const privateKey = options.privateKey ?? this.keys.get(kid)?.privateKey;
    if (!privateKey) throw new Error(`no private key for ${kid}`);
    const now = options.now ?? Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: ISSUER,
      aud: AUDIENCE,
      act: 'user',
      iat: now,
      nbf: now,
      exp: now + 300,
      jti: randomUUID(),
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .sign(privateKey);
  }

  /** A user of a fresh active tenant, with a token. */
  async newUser(): Promise<{ tenantId: string; userId: string; token: string }> {
    const tenantId = `t-${randomUUID()}`;
    const userId = `u-${randomUUID()}`;
    this.tenantStatus.set(tenantId, 'active');
    return { tenantId, userId, token: await this.accessToken({ sub: userId, tid: tenantId }) };
  }

  /** An API key of `tenantId`, in identity's format. */
  newApiKey(tenantId: string, expiresAt: string | null = null): { key: string; apiKeyId: string } {
    const apiKeyId = `ak-${randomUUID()}`;
    const key = `tnt_${randomUUID().slice(0, 8)}_${randomUUID().replace(/-/g, '')}`;
    this.apiKeys.set(key, { apiKeyId, tenantId, role: 'member', expiresAt });
    return { key, apiKeyId };
  }
}
