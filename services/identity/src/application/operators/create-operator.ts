import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { normalizeEmail } from '../../domain/email-address';
import type { OperatorRole } from '../../persistence/entities/operator.entity';
import { OperatorEntity } from '../../persistence/entities/operator.entity';
import type { PasswordHasher } from '../../security/password-hasher';

export interface NewOperator {
  readonly email: string;
  readonly password: string;
  readonly displayName?: string;
  readonly role: OperatorRole;
}

/** Creates a platform operator (bootstrap command; operators are not tenant members). */
export async function createOperator(
  dataSource: DataSource,
  passwords: PasswordHasher,
  input: NewOperator,
): Promise<{ operatorId: string; email: string; role: OperatorRole }> {
  if (input.password.length < 12) throw new Error('an operator password needs 12+ characters');
  const email = normalizeEmail(input.email);
  const operatorId = randomUUID();
  await dataSource.manager.insert(OperatorEntity, {
    id: operatorId,
    email,
    displayName: input.displayName ?? '',
    passwordHash: await passwords.hash(input.password),
    role: input.role,
  });
  return { operatorId, email, role: input.role };
}
