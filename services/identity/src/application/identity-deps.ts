import type { DataSource } from 'typeorm';
import type { Logger } from 'winston';
import type { Outbox } from '@tenantry/events';
import type { IdentityConfig } from '../config';
import type { Clock } from '../domain/clock';
import type { LoginRateLimiter } from '../security/login-rate-limiter';
import type { PasswordHasher } from '../security/password-hasher';
import type { AccessTokenIssuer } from '../tokens/access-token-issuer';
import type { SigningKeyStore } from '../tokens/signing-key-store';

/** What the use cases work with; built once by the service factory. */
export interface IdentityDeps {
  readonly config: IdentityConfig;
  readonly dataSource: DataSource;
  readonly outbox: Outbox;
  readonly passwords: PasswordHasher;
  readonly accessTokens: AccessTokenIssuer;
  readonly signingKeys: SigningKeyStore;
  readonly loginLimiter: LoginRateLimiter;
  readonly logger: Logger;
  /** Where "now" comes from for the offboarding saga (tests move it). */
  readonly clock: Clock;
}
