// Offline checks of deploy/docker/Dockerfile and the root .dockerignore (no Docker engine here).
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, servicesWithMain } from './manifest-helpers';

interface Instruction {
  readonly op: string;
  readonly args: string;
  readonly stage: number;
}

/** Instructions with their stage index; line continuations joined, comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // a comment inside a continued instruction
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const [op = '', ...rest] = full.split(/\s+/);
    if (op.toUpperCase() === 'FROM') stage += 1;
    out.push({ op: op.toUpperCase(), args: rest.join(' '), stage });
  }
  return out;
}

/** Docker's .dockerignore semantics, enough for this file: last match wins, parents count. */
function dockerIgnored(patterns: readonly string[], file: string): boolean {
  const toRegex = (p: string): RegExp =>
    new RegExp(
      `^${p
        .replace(/\/+$/, '')
        .split('/')
        .map((seg) =>
          seg === '**'
            ? '(?:.*)'
            : seg
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\(\?:\.\*\)\//g, '(?:.*/)?')}$`,
    );
  const parts = file.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const re = toRegex(negated ? raw.slice(1) : raw);
    if (prefixes.some((p) => re.test(p))) ignored = !negated;
  }
  return ignored;
}

const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'deploy/docker/Dockerfile'), 'utf8');
const instructions = parseDockerfile(dockerfile);
const ignorePatterns = fs
  .readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

describe('deploy/docker/Dockerfile', () => {
  const froms = instructions.filter((i) => i.op === 'FROM');
  const stageNames = froms.map((f) => /\bAS\s+(\S+)/i.exec(f.args)?.[1]);
  const last = froms.length - 1;
  const final = instructions.filter((i) => i.stage === last);
  // Instructions inherited through `FROM <earlier stage>` count for the final image too.
  const chain = (stage: number): Instruction[] => {
    const from = froms[stage]!.args.split(/\s+/)[0]!;
    const parent = stageNames.indexOf(from);
    const own = instructions.filter((i) => i.stage === stage);
    return parent >= 0 ? [...chain(parent), ...own] : own;
  };
  const finalChain = chain(last);

  it('builds every stage from node:20-bookworm-slim (pinned major) or an earlier stage', () => {
    expect(froms.length).toBeGreaterThan(1);
    froms.forEach((f, i) => {
      const image = f.args.split(/\s+/)[0]!;
      const earlier = stageNames.slice(0, i);
      if (!earlier.includes(image))
        expect(image).toMatch(/^node:20-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
    });
  });

  it('installs with npm ci from the lock, production dependencies only in the image', () => {
    const runs = instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r) && /--omit=dev/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm install\b/.test(r))).toBe(false);
    expect(instructions.some((i) => i.op === 'COPY' && /package-lock\.json/.test(i.args))).toBe(
      true,
    );
  });

  it('runs as a non-root user, in production mode, stopped by SIGTERM, without HEALTHCHECK', () => {
    const users = finalChain.filter((i) => i.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users[users.length - 1]!.args.split(':')[0]!;
    // Numeric, so Kubernetes' runAsNonRoot can verify it.
    expect(user).toMatch(/^\d+$/);
    expect(Number(user)).toBeGreaterThan(0);
    expect(finalChain.some((i) => i.op === 'ENV' && /\bNODE_ENV=production\b/.test(i.args))).toBe(
      true,
    );
    expect(final.filter((i) => i.op === 'STOPSIGNAL').map((i) => i.args)).toEqual(['SIGTERM']);
    expect(instructions.some((i) => i.op === 'HEALTHCHECK')).toBe(false);
  });

  it('starts node directly (exec form: node is PID 1 and receives SIGTERM) on the compiled entry', () => {
    const cmds = final.filter((i) => i.op === 'CMD' || i.op === 'ENTRYPOINT');
    expect(cmds).toHaveLength(1);
    const argv = JSON.parse(cmds[0]!.args) as string[];
    expect(argv[0]).toBe('node');
    expect(argv[argv.length - 1]).toMatch(/\.js$/);
    expect(argv.join(' ')).not.toMatch(/swc|ts-node|tsx/);
  });

  it('takes SERVICE as a build argument in the stages that use it', () => {
    for (const stage of new Set(
      instructions.filter((i) => /\$\{?SERVICE\b/.test(i.args)).map((i) => i.stage),
    )) {
      expect(
        instructions.some((i) => i.stage === stage && i.op === 'ARG' && /^SERVICE\b/.test(i.args)),
      ).toBe(true);
    }
    // The documented values are the services that have an entry point.
    const documented = /SERVICE is one of services\/<name> \(([^)]*)\)/.exec(dockerfile)?.[1];
    expect(documented?.split(/,\s*/).sort()).toEqual(servicesWithMain());
  });

  it('copies from stages that exist and from context paths that exist and are not ignored', () => {
    for (const copy of instructions.filter((i) => i.op === 'COPY')) {
      const words = copy.args.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const sources = words.filter((w) => !w.startsWith('--')).slice(0, -1);
      if (from) {
        expect(stageNames.slice(0, copy.stage)).toContain(from);
        continue;
      }
      for (const src of sources) {
        expect({ src, exists: fs.existsSync(path.join(REPO_ROOT, src)) }).toEqual({
          src,
          exists: true,
        });
        expect({ src, ignored: dockerIgnored(ignorePatterns, src.replace(/\/$/, '')) }).toEqual({
          src,
          ignored: false,
        });
      }
    }
  });
});

describe('.dockerignore', () => {
  it('keeps local state, caches, build output and git history out of the build context', () => {
    for (const p of [
      'node_modules/express/package.json',
      'libs/db/node_modules/x',
      '.git/HEAD',
      '.cache/kafka/x.jar',
      '.stack/dev/logs/svc-gateway.log',
      'dist/image/main.js',
      'coverage/lcov.info',
      '.env',
      'services/gateway/.env.local',
      '.nx/cache/x',
      'deploy/local/maven/target/x',
      'services/gateway/test/gateway.int.spec.ts',
      'libs/http/src/api-routes.spec.ts',
    ]) {
      expect({ p, ignored: dockerIgnored(ignorePatterns, p) }).toEqual({ p, ignored: true });
    }
  });

  it('lets in what the build compiles', () => {
    for (const p of [
      'package.json',
      'package-lock.json',
      'tsconfig.base.json',
      'libs/db/package.json',
      'libs/db/src/index.ts',
      'services/gateway/src/main.ts',
      'deploy/docker/build-service.mjs',
    ]) {
      expect({ p, ignored: dockerIgnored(ignorePatterns, p) }).toEqual({ p, ignored: false });
    }
  });
});
