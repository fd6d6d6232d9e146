import { DataSource } from 'typeorm';
import type { DataSourceOptions, MixedList, EntitySchema } from 'typeorm';
import { revokeAppendOnlyChanges } from './append-only-table';
import { grantApplicationRole } from './row-level-security';

// TypeORM's own list type for entities and migrations (classes, schemas or glob paths).
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type EntityList = MixedList<Function | string | EntitySchema>;
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type MigrationList = MixedList<Function | string>;

/** Advisory lock key (hashed) that serialises the migrate step; advisory locks are per database. */
const MIGRATION_LOCK = 'tenantry.db.migrate';

export interface ServiceDatabaseConfig {
  /** Connection URL of the non-owner application role: what the service runs as. */
  readonly appUrl: string;
  /** Connection URL of the owner role: used only to run migrations. */
  readonly ownerUrl: string;
  readonly entities: EntityList;
  readonly migrations: MigrationList;
  /** Pool size for the application connection. */
  readonly poolSize?: number;
  /** Tag on each connection so pg_stat_activity tells services apart. */
  readonly applicationName?: string;
}

function baseOptions(url: string, config: ServiceDatabaseConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: config.entities,
    migrations: config.migrations,
    // The schema changes only through reviewed migrations.
    synchronize: false,
    migrationsRun: false,
    logging: false,
    applicationName: config.applicationName,
    extra: { max: config.poolSize ?? 10 },
  };
}

/** The application role's role name, read from its connection URL. */
export function roleOfUrl(url: string): string {
  const user = decodeURIComponent(new URL(url).username);
  if (!user) throw new Error('database URL has no user name');
  return user;
}

/**
 * Runs pending migrations as the owner role, then grants the application role use of what the
 * owner created, and takes UPDATE/DELETE/TRUNCATE back on every append-only table (those a
 * migration passed to `makeTableAppendOnly`). Grant and revoke commit together, so the app role
 * never holds those rights even for a moment. Safe to run at every start and from several
 * replicas at once: the whole step runs under one session-level advisory lock per database
 * (TypeORM does not serialise migration runs itself), so the replicas that wait for it then find
 * nothing pending.
 */
export async function migrateServiceDatabase(config: ServiceDatabaseConfig): Promise<string[]> {
  // Two connections: one only holds the lock for the whole step, the other does the work.
  const owner = new DataSource(baseOptions(config.ownerUrl, { ...config, poolSize: 2 }));
  await owner.initialize();
  try {
    const lock = owner.createQueryRunner();
    try {
      await lock.query(`SELECT pg_advisory_lock(hashtext($1))`, [MIGRATION_LOCK]);
      try {
        return await migrateUnderLock(owner, config);
      } finally {
        // Closing the connection would release it too; unlocking says so at once.
        await lock.query(`SELECT pg_advisory_unlock(hashtext($1))`, [MIGRATION_LOCK]);
      }
    } finally {
      await lock.release();
    }
  } finally {
    await owner.destroy();
  }
}

/** The migrate step proper; the caller holds the database's migration lock. */
async function migrateUnderLock(
  owner: DataSource,
  config: ServiceDatabaseConfig,
): Promise<string[]> {
  const ran = await owner.runMigrations({ transaction: 'each' });
  const queryRunner = owner.createQueryRunner();
  try {
    await queryRunner.startTransaction();
    try {
      // Concurrent GRANTs on one object can fail with "tuple concurrently updated".
      await queryRunner.query(`SELECT pg_advisory_xact_lock(hashtext('tenantry.db.grants'))`);
      await grantApplicationRole(queryRunner, roleOfUrl(config.appUrl));
      await revokeAppendOnlyChanges(queryRunner, roleOfUrl(config.appUrl));
      await queryRunner.commitTransaction();
    } catch (error) {
      await queryRunner.rollbackTransaction();
      throw error;
    }
  } finally {
    await queryRunner.release();
  }
  return ran.map((migration) => migration.name);
}

/** The DataSource the service uses at run time, connected as the non-owner application role. */
export async function openServiceDataSource(config: ServiceDatabaseConfig): Promise<DataSource> {
  const dataSource = new DataSource(baseOptions(config.appUrl, config));
  await dataSource.initialize();
  return dataSource;
}
