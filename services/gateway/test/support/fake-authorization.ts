import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { INTERNAL_AUTHZ_CHECK_PATH } from '@tenantry/contracts';
import type { InternalAuthzCheckRequest } from '@tenantry/contracts';
import { ApiRoutes } from '@tenantry/http';
import { CONTEXT_HEADERS, verifyContextToken } from '@tenantry/tenancy';
import type { ContextTokenKey, TenantContext } from '@tenantry/tenancy';

const noop = async (): Promise<void> => undefined;

/**
 * A test double of the authorization service at its contract with the gateway: its OpenAPI
 * document and the internal decision endpoint, whose answers (and failures) tests set.
 */
export class FakeAuthorization {
  /** `<tenant>|<subject type>:<subject id>` -> permissions held. */
  readonly grants = new Map<string, Set<string>>();
  readonly checks: { request: InternalAuthzCheckRequest; context: TenantContext | null }[] = [];
  mode: 'ok' | 'error' | 'slow' = 'ok';
  private server: Server | undefined;
  url = '';

  constructor(private readonly contextKey: ContextTokenKey) {}

  grant(tenantId: string, subject: string, ...permissions: string[]): void {
    const key = `${tenantId}|${subject}`;
    this.grants.set(key, new Set([...(this.grants.get(key) ?? []), ...permissions]));
  }

  revokeAll(tenantId: string, subject: string): void {
    this.grants.delete(`${tenantId}|${subject}`);
  }

  async start(): Promise<this> {
    const routes = new ApiRoutes({ title: 'authorization (fake)', version: '0' }).add(
      {
        method: 'get',
        path: '/v1/roles',
        summary: 'Roles',
        permission: 'roles:read',
        responses: { 200: { description: 'ok' } },
      },
      noop,
    );
    const app = express();
    app.use(express.json());
    app.get('/openapi.json', (_req, res) => {
      res.json(routes.openApi());
    });
    app.post(INTERNAL_AUTHZ_CHECK_PATH, async (req, res) => {
      let context: TenantContext | null = null;
      try {
        context = await verifyContextToken(
          String(req.headers[CONTEXT_HEADERS.contextToken]),
          [this.contextKey],
          { audience: 'authorization' },
        );
      } catch {
        context = null;
      }
      const request = req.body as InternalAuthzCheckRequest;
      this.checks.push({ request, context });
      if (!context || context.actor.type !== 'service') {
        res.status(401).json({ status: 401 });
        return;
      }
      if (this.mode === 'error') {
        res.status(503).json({ status: 503 });
        return;
      }
      if (this.mode === 'slow') await new Promise((resolve) => setTimeout(resolve, 2_000));
      const held =
        this.grants.get(`${request.tenantId}|${request.subject.type}:${request.subject.id}`) ??
        new Set<string>();
      res.json({
        decisions: Object.fromEntries(request.permissions.map((p) => [p, held.has(p)])),
      });
    });
    app.all('/v1/*splat', (_req, res) => {
      res.json({ served: 'authorization' });
    });
    await new Promise<void>((resolve) => {
      this.server = app.listen(0, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
