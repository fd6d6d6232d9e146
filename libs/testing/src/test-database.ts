import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface TestDatabase {
  readonly name: string;
  /** URL of the database's owner role (runs migrations). */
  readonly ownerUrl: string;
  /** URL of a non-owner application role (what a service runs as). */
  readonly appUrl: string;
  /** Drops the database and both roles. */
  drop(): Promise<void>;
}

function withCredentials(
  adminUrl: string,
  user: string,
  password: string,
  database: string,
): string {
  const url = new URL(adminUrl);
  url.username = user;
  url.password = password;
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * A fresh database with its own owner and application roles, named uniquely, so tests run in
 * parallel and never depend on what an earlier run left behind.
 */
export async function createTestDatabase(adminUrl: string, prefix = 't'): Promise<TestDatabase> {
  const suffix = randomBytes(5).toString('hex');
  const name = `${prefix}_${suffix}`;
  const owner = `${name}_owner`;
  const app = `${name}_app`;
  const password = randomBytes(12).toString('hex');
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE ${owner} LOGIN PASSWORD '${password}' NOSUPERUSER NOBYPASSRLS`);
    await admin.query(`CREATE ROLE ${app} LOGIN PASSWORD '${password}' NOSUPERUSER NOBYPASSRLS`);
    await admin.query(`CREATE DATABASE ${name} OWNER ${owner}`);
    await admin.query(`GRANT CONNECT ON DATABASE ${name} TO ${app}`);
  } finally {
    await admin.end();
  }
  const ownerUrl = withCredentials(adminUrl, owner, password, name);
  // PostgreSQL 15 no longer lets every role create in schema public; the owner needs it.
  const ownerClient = new Client({
    connectionString: withCredentials(
      adminUrl,
      new URL(adminUrl).username,
      decodeURIComponent(new URL(adminUrl).password),
      name,
    ),
  });
  await ownerClient.connect();
  try {
    await ownerClient.query(`ALTER SCHEMA public OWNER TO ${owner}`);
  } finally {
    await ownerClient.end();
  }
  return {
    name,
    ownerUrl,
    appUrl: withCredentials(adminUrl, app, password, name),
    async drop() {
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await client.query(`DROP ROLE IF EXISTS ${app}`);
        await client.query(`DROP ROLE IF EXISTS ${owner}`);
      } finally {
        await client.end();
      }
    },
  };
}
