import { PrivateStackServer } from './private-stack';

/**
 * A PostgreSQL server of a test's own (a separate local-stack profile, its own data folder), for
 * tests that stop or kill the database under a service without disturbing the suites that share
 * the main test server. `databaseAdminUrl` works with `createTestDatabase`.
 */
export class PrivatePostgres extends PrivateStackServer {
  readonly databaseAdminUrl: string;

  /** Keep `port` below the ephemeral range (32768+). */
  constructor(profile: string, port: number) {
    super(profile, 'postgres', { PG_PORT: port });
    this.databaseAdminUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  }
}
