import type { DataSource } from 'typeorm';
import type { TenantTransaction } from '@tenantry/db';
import { withCurrentTenant } from '@tenantry/db';
import { HttpProblem, conflict, forbidden, notFound } from '@tenantry/http';
import { DuplicateEventError } from '@tenantry/events';
import { requireTenantContext } from '@tenantry/tenancy';
import type { Actor } from '@tenantry/tenancy';
import { BillingRefusedError } from '../application/billing-refused-error';
import type { BillingDeps } from '../application/billing-deps';

export interface RouteDeps {
  readonly dataSource: DataSource;
  readonly deps: BillingDeps;
}

/** Runs a route's work in the caller's tenant transaction; a refusal becomes its problem. */
export async function inTenant<T>(
  routeDeps: RouteDeps,
  work: (tx: TenantTransaction) => Promise<T>,
): Promise<T> {
  try {
    return await withCurrentTenant(routeDeps.dataSource, work);
  } catch (error) {
    if (error instanceof DuplicateEventError) {
      // A re-run of a request whose change already committed under this Idempotency-Key (its
      // first response was lost): the re-run rolled back; nothing changed twice (ADR 0012).
      throw conflict(
        'This Idempotency-Key’s change was already applied; read the resource for its result.',
      );
    }
    if (!(error instanceof BillingRefusedError)) throw error;
    switch (error.reason) {
      case 'not-found':
        throw notFound(error.message);
      case 'conflict':
        throw conflict(error.message);
      case 'forbidden':
        throw forbidden(error.message);
      case 'unprocessable':
        throw new HttpProblem({
          status: 422,
          title: 'Unprocessable',
          slug: 'unprocessable',
          detail: error.message,
        });
    }
  }
}

/** Object-level check for operator-only acts (the gateway lets operators through its coarse check). */
export function requireOperator(): Actor {
  const { actor } = requireTenantContext('an operator route');
  if (actor.type !== 'operator') throw forbidden('Only platform operators may do this.');
  return actor;
}
