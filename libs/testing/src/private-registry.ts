import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { TestDatabase } from './test-database';
import { createTestDatabase } from './test-database';
import { waitFor } from './wait-for';

const run = promisify(execFile);
const LOCAL_LIB = path.resolve(__dirname, '../../../deploy/local/lib');
const RESULT_MARK = 'PRIVATE_REGISTRY_LAUNCH=';

interface Launch {
  java: string;
  jar: string;
  jvmOpts: string[];
  compatibility: string;
}

/**
 * Jar, java binary and JVM options exactly as the local stack resolves them (deploy/local/lib is
 * ESM, so it runs in a child node rather than through jest's CommonJS transform).
 */
async function resolveLaunch(): Promise<Launch> {
  const lib = (file: string) => JSON.stringify(pathToFileURL(path.join(LOCAL_LIB, file)).href);
  const script = `
    import { artifactPaths, ensureArtifacts } from ${lib('fetch.mjs')};
    import { javaFor } from ${lib('java.mjs')};
    import { JVM_OPTS, MIN_JAVA, REGISTRY_COMPATIBILITY } from ${lib('stack-config.mjs')};
    import path from 'node:path';
    ensureArtifacts(['apicurio']);
    const { bin } = javaFor(MIN_JAVA.registry, 'Apicurio Registry');
    const jar = path.join(artifactPaths().apicurioDir, 'quarkus-run.jar');
    process.stdout.write('\\n${RESULT_MARK}' + JSON.stringify({
      java: bin, jar, jvmOpts: JVM_OPTS.registry, compatibility: REGISTRY_COMPATIBILITY,
    }) + '\\n');
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
  if (!line) throw new Error(`could not resolve the Apicurio launch: ${stdout}`);
  return JSON.parse(line.slice(RESULT_MARK.length)) as Launch;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * An Apicurio Registry of a test's own (same distribution as the local stack, from .cache/), for
 * tests that kill the registry without disturbing the suites that share the main one. Its
 * schemas live in a fresh database on the shared PostgreSQL, so they survive a kill and restart.
 */
export class PrivateRegistry {
  /** Confluent-compatible base URL, what EventCodec takes. */
  readonly ccompatUrl: string;
  private database: TestDatabase | undefined;
  private child: ChildProcess | undefined;
  private readonly home: string;

  /** `port` and `port + 1` (management): keep them below the ephemeral range (32768+). */
  constructor(
    private readonly databaseAdminUrl: string,
    private readonly port: number,
  ) {
    this.ccompatUrl = `http://127.0.0.1:${port}/apis/ccompat/v7`;
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), `private-registry-${port}-`));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get logFile(): string {
    return path.join(this.home, 'registry.log');
  }

  /** Starts the registry (on the same database as any earlier start) and waits until it answers. */
  async start(): Promise<void> {
    if (this.child?.pid && isAlive(this.child.pid)) return;
    this.database ??= await createTestDatabase(this.databaseAdminUrl, 'privreg');
    const launch = await resolveLaunch();
    const owner = new URL(this.database.ownerUrl);
    const props: Record<string, string | number> = {
      'quarkus.http.host': '127.0.0.1',
      'quarkus.http.port': this.port,
      'quarkus.management.host': '127.0.0.1',
      'quarkus.management.port': this.port + 1,
      'quarkus.http.access-log.enabled': 'false',
      'apicurio.storage.kind': 'sql',
      'apicurio.storage.sql.kind': 'postgresql',
      'apicurio.datasource.url': `jdbc:postgresql://${owner.hostname}:${owner.port || 5432}${owner.pathname}`,
      'apicurio.datasource.username': decodeURIComponent(owner.username),
      'apicurio.datasource.password': decodeURIComponent(owner.password),
      'apicurio.datasource.jdbc.initial-size': 1,
      'apicurio.datasource.jdbc.min-size': 1,
      'apicurio.datasource.jdbc.max-size': 4,
      'apicurio.storage.snapshot.location': this.home,
      'apicurio.rules.global.compatibility': launch.compatibility,
      'apicurio.rules.global.validity': 'FULL',
    };
    const log = fs.openSync(this.logFile, 'a');
    try {
      this.child = spawn(
        launch.java,
        [
          ...launch.jvmOpts,
          '-Djava.awt.headless=true',
          ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`),
          '-jar',
          launch.jar,
        ],
        // Its own working folder: Quarkus reads ./config and ./.env from there.
        { cwd: this.home, stdio: ['ignore', log, log] },
      );
    } finally {
      fs.closeSync(log);
    }
    const child = this.child;
    await waitFor(
      `the private registry on port ${this.port}`,
      async () => {
        if (child.exitCode !== null) {
          throw new Error(`registry exited with ${child.exitCode}; see ${this.logFile}`);
        }
        const res = await fetch(`${this.ccompatUrl}/subjects`, {
          signal: AbortSignal.timeout(2000),
        });
        return res.ok;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
  }

  /** kill -9: the registry disappears mid-flight, as in a crash. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** Stops the registry and drops its database. */
  async destroy(): Promise<void> {
    await this.signal('SIGKILL');
    await this.database?.drop();
    this.database = undefined;
    fs.rmSync(this.home, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
    this.child = undefined;
  }
}
