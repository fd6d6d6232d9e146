/**
 * Bootstrap command: creates a platform operator.
 *
 *   node -r @swc-node/register services/identity/src/cli/create-operator.ts \
 *     --email ops@example.com [--password ...] [--role admin|support] [--name "Ops"]
 *
 * The password may come from OPERATOR_PASSWORD instead of the command line (kept out of shell
 * history); the email from OPERATOR_EMAIL. Database URLs as for the service
 * (IDENTITY_DATABASE_URL, IDENTITY_DATABASE_OWNER_URL); migrations run first.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { migrateServiceDatabase, openServiceDataSource } from '@tenantry/db';
import { createOperator } from '../application/operators/create-operator';
import { identityDatabase } from '../persistence/identity-database';
import { PasswordHasher } from '../security/password-hasher';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      email: { type: 'string' },
      password: { type: 'string' },
      role: { type: 'string', default: 'admin' },
      name: { type: 'string', default: '' },
    },
  });
  const email = values.email ?? process.env.OPERATOR_EMAIL;
  const password = values.password ?? process.env.OPERATOR_PASSWORD;
  const role = values.role;
  if (!email || !password || (role !== 'admin' && role !== 'support')) {
    throw new Error(
      'usage: create-operator --email <email> [--password <password> | env OPERATOR_PASSWORD] [--role admin|support] [--name <name>]',
    );
  }
  const database = identityDatabase({
    appUrl:
      process.env.IDENTITY_DATABASE_URL ??
      'postgres://identity_app:identity_app@127.0.0.1:5433/identity',
    ownerUrl:
      process.env.IDENTITY_DATABASE_OWNER_URL ??
      'postgres://identity_owner:identity_owner@127.0.0.1:5433/identity',
  });
  await migrateServiceDatabase(database);
  const dataSource = await openServiceDataSource(database);
  try {
    const created = await createOperator(dataSource, new PasswordHasher(), {
      email,
      password,
      role,
      displayName: values.name ?? '',
    });
    console.log(JSON.stringify(created));
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
