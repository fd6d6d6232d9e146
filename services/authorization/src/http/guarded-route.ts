import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { ApiRoutes, RouteDefinition, RouteInput } from '@tenantry/http';
import { badRequest, conflict, forbidden, notFound, serviceUnavailable } from '@tenantry/http';
import { requireTenantContext } from '@tenantry/tenancy';
import { PolicyChangeRefusedError } from '../application/policy-change-refused-error';
import { PolicyUnavailableError } from '../policy/policy-unavailable-error';
import type { PolicyEngine } from '../policy/policy-engine';

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** Domain refusals and an unloadable policy as problems; anything else stays a 500. */
export function problemOf(error: unknown): unknown {
  if (error instanceof PolicyUnavailableError) {
    return serviceUnavailable('Authorization decisions are unavailable right now.', {
      retryAfterSeconds: 1,
    });
  }
  if (error instanceof PolicyChangeRefusedError) {
    const make = {
      forbidden,
      'not-found': notFound,
      conflict,
      invalid: badRequest,
    }[error.kind];
    return make(error.message, error.details);
  }
  return error;
}

/**
 * `ApiRoutes.add` plus the route's own permission checked here too (the gateway checks it first;
 * this keeps the service safe when called some other way), and domain errors as problems.
 */
export function addGuardedRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  routes: ApiRoutes,
  engine: PolicyEngine,
  definition: RouteDefinition<P, Q, B>,
  handler: (
    input: RouteInput<Out<P>, Out<Q>, Out<B>>,
    req: Request,
    res: Response,
  ) => Promise<void>,
): void {
  const { permission } = definition;
  routes.add(definition, async (input, req, res) => {
    try {
      if (permission !== 'public' && permission !== 'authenticated') {
        const { tenantId, actor } = requireTenantContext(`${definition.method} ${definition.path}`);
        if (!(await engine.allows(tenantId, actor, permission))) {
          throw forbidden(`This needs the permission ${permission}.`);
        }
      }
      await handler(input, req, res);
    } catch (error) {
      throw problemOf(error);
    }
  });
}
