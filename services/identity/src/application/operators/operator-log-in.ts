import { normalizeEmail } from '../../domain/email-address';
import { OperatorEntity } from '../../persistence/entities/operator.entity';
import type { IssuedAccessToken } from '../../tokens/access-token-issuer';
import { invalidCredentials } from '../issue-tokens/session-issuer';
import type { IdentityDeps } from '../identity-deps';

/**
 * Operator login: an access token with `act: operator` and no tenant, and no refresh token
 * (operators sign in again after 15 minutes). Same failure limits and error as user login.
 */
export async function operatorLogIn(
  deps: IdentityDeps,
  input: { email: string; password: string },
  clientIp: string,
): Promise<IssuedAccessToken & { tokenType: 'Bearer'; operatorId: string }> {
  const email = normalizeEmail(input.email);
  const account = `operator:${email}`;
  await deps.loginLimiter.consumeAttempt(account, clientIp);
  const operator = await deps.dataSource.manager.findOneBy(OperatorEntity, { email });
  const valid = await deps.passwords.verify(operator?.passwordHash, input.password);
  if (!valid || !operator || operator.disabledAt) {
    throw invalidCredentials();
  }
  await deps.loginLimiter.recordSuccess(account, clientIp);
  const token = await deps.accessTokens.issue({ act: 'operator', sub: operator.id });
  deps.logger.info('operator signed in', { operator_id: operator.id });
  return { tokenType: 'Bearer', ...token, operatorId: operator.id };
}
