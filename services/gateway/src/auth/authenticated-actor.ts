import type { Actor } from '@tenantry/tenancy';

/** Who a request speaks for, once its credential is verified. */
export interface AuthenticatedActor {
  /** The tenant whose context is stamped; `platform` for an operator acting outside any tenant. */
  readonly tenantId: string;
  readonly actor: Actor;
  /** How the credential was presented; decides which checks still apply. */
  readonly credential: 'jwt' | 'api_key';
  /** The API key's role (from identity), for the permission step. */
  readonly role?: string;
}
