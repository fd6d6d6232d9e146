import type { Express, Request, RequestHandler, Response } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import { assertSafeRequestValue } from './request-text';
import { validateBody, validateParams, validateQuery } from './validate-request';
import type { RequestValidator } from './validate-request';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * What a route needs from the caller: `public` (no authentication: sign-up, login),
 * `authenticated` (any verified actor of the tenant), or a permission `<resource>:<action>`
 * that the gateway checks (coarse); object-level checks stay in the handler, next to the data.
 */
export type RoutePermission = 'public' | 'authenticated' | `${string}:${string}`;

export interface RouteResponse {
  readonly description: string;
  readonly schema?: z.ZodType;
}

export interface RouteDefinition<
  TParams extends z.ZodType = z.ZodType,
  TQuery extends z.ZodType = z.ZodType,
  TBody extends z.ZodType = z.ZodType,
> {
  readonly method: HttpMethod;
  /** Express path, e.g. `/v1/invitations/:invitationId`. */
  readonly path: string;
  readonly summary: string;
  readonly tags?: readonly string[];
  readonly permission: RoutePermission;
  readonly params?: TParams;
  readonly query?: TQuery;
  /** Use `z.strictObject` so unknown fields are refused. */
  readonly body?: TBody;
  readonly responses: Readonly<Record<number, RouteResponse>>;
}

export interface RouteInput<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export type RouteHandler<P, Q, B> = (
  input: RouteInput<P, Q, B>,
  req: Request,
  res: Response,
) => Promise<void>;

export interface RouteSummary {
  readonly method: HttpMethod;
  readonly path: string;
  readonly permission: RoutePermission;
}

interface RegisteredRoute {
  readonly definition: RouteDefinition;
  readonly mount: (router: Router) => void;
}

/** Decoded path parameters with NUL or a lone surrogate are refused even on routes without a schema. */
const requireStorableParams: RequestHandler = (req, _res, next) => {
  assertSafeRequestValue(req.params, 'params');
  next();
};

/** `/v1/things/:id` -> `/v1/things/{id}` */
function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  return rest;
}

/**
 * A service's public routes, declared once: the same zod schemas validate requests and produce
 * the OpenAPI 3.1 document, and each route names the permission it needs, so the gateway's
 * checks, the docs and the handlers cannot drift apart.
 */
export class ApiRoutes {
  private readonly routes: RegisteredRoute[] = [];

  constructor(private readonly info: { title: string; version: string }) {}

  add<TParams extends z.ZodType, TQuery extends z.ZodType, TBody extends z.ZodType>(
    definition: RouteDefinition<TParams, TQuery, TBody>,
    handler: RouteHandler<Out<TParams>, Out<TQuery>, Out<TBody>>,
  ): this {
    const validators: { part: 'params' | 'query' | 'body'; v: RequestValidator<unknown> }[] = [];
    if (definition.params)
      validators.push({ part: 'params', v: validateParams(definition.params) });
    if (definition.query) validators.push({ part: 'query', v: validateQuery(definition.query) });
    if (definition.body) validators.push({ part: 'body', v: validateBody(definition.body) });
    const mount = (router: Router): void => {
      router[definition.method](
        definition.path,
        requireStorableParams,
        ...validators.map(({ v }) => v),
        async (req: Request, res: Response) => {
          const input: Record<string, unknown> = {
            params: undefined,
            query: undefined,
            body: undefined,
          };
          for (const { part, v } of validators) input[part] = v.value(req);
          await handler(
            input as unknown as RouteInput<Out<TParams>, Out<TQuery>, Out<TBody>>,
            req,
            res,
          );
        },
      );
    };
    this.routes.push({ definition: definition as unknown as RouteDefinition, mount });
    return this;
  }

  /** Mounts every route on the app (express 5 forwards rejected promises to the error handler). */
  mount(app: Express): void {
    const router = Router();
    for (const route of this.routes) route.mount(router);
    app.use(router);
  }

  /**
   * Routes that need no signed context, method and path together (for
   * `createHttpApp({ publicRoutes })`): a public GET does not make the same path's DELETE public.
   */
  publicRoutes(): { method: HttpMethod; path: string }[] {
    return this.routes
      .filter((r) => r.definition.permission === 'public')
      .map(({ definition: { method, path } }) => ({ method, path }));
  }

  /** Every route with its permission: the gateway's route-permission table is built from this. */
  summaries(): RouteSummary[] {
    return this.routes.map(({ definition: { method, path, permission } }) => ({
      method,
      path,
      permission,
    }));
  }

  /** The OpenAPI 3.1 document of these routes. */
  openApi(): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const { definition: d } of this.routes) {
      const parameters: unknown[] = [];
      for (const [location, schema] of [
        ['path', d.params],
        ['query', d.query],
      ] as const) {
        if (!schema) continue;
        const json = jsonSchema(schema, 'input') as {
          properties?: Record<string, unknown>;
          required?: string[];
        };
        for (const [name, property] of Object.entries(json.properties ?? {})) {
          parameters.push({
            name,
            in: location,
            required: location === 'path' || (json.required ?? []).includes(name),
            schema: property,
          });
        }
      }
      const responses: Record<string, unknown> = {};
      for (const [status, response] of Object.entries(d.responses)) {
        const isProblem = Number(status) >= 400;
        responses[status] = {
          description: response.description,
          ...(response.schema
            ? { content: { 'application/json': { schema: jsonSchema(response.schema, 'output') } } }
            : isProblem
              ? {
                  content: {
                    'application/problem+json': {
                      schema: { $ref: '#/components/schemas/Problem' },
                    },
                  },
                }
              : {}),
        };
      }
      const operation = {
        summary: d.summary,
        ...(d.tags ? { tags: [...d.tags] } : {}),
        'x-permission': d.permission,
        ...(d.permission === 'public' ? { security: [] } : {}),
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(d.body
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: jsonSchema(d.body, 'input') } },
              },
            }
          : {}),
        responses,
      };
      const path = openApiPath(d.path);
      paths[path] = { ...(paths[path] ?? {}), [d.method]: operation };
    }
    return {
      openapi: '3.1.0',
      info: this.info,
      paths,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
        schemas: { Problem: PROBLEM_SCHEMA },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    };
  }
}

/** RFC 9457 problem details, as every error response of the platform carries. */
export const PROBLEM_SCHEMA = {
  type: 'object',
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
  },
  required: ['type', 'title', 'status'],
};
