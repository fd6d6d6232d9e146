// Runs the image's build step (deploy/docker/build-service.mjs, what the Dockerfile runs) for
// every service into a temporary folder laid out like the image's /app, then loads the compiled
// JavaScript with plain node, no TypeScript loader: the @tenantry/* workspace links resolve to
// compiled libs, TypeORM entities carry decorator metadata, and the service's config accepts the
// environment of its Kubernetes Deployment.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { EXTERNAL_SECRETS } from './deploy-expectations';
import type { Obj } from './manifest-helpers';
import {
  K8S_DIR,
  REPO_ROOT,
  containerEnv,
  list,
  nameOf,
  obj,
  podContainers,
  renderKustomization,
  SERVICES_NOT_YET_DEPLOYED,
  servicesWithMain,
} from './manifest-helpers';

jest.setTimeout(120_000);

const CONFIG_LOADERS: Readonly<Record<string, string>> = {
  identity: 'loadConfig',
  authorization: 'loadConfig',
  billing: 'loadConfig',
  reporting: 'loadConfig',
  gateway: 'loadGatewayConfig',
};

const { manifests } = renderKustomization(path.join(K8S_DIR, 'overlays/production'));
const configMaps = new Map(
  manifests.filter((m) => m.doc.kind === 'ConfigMap').map((m) => [nameOf(m.doc), m.doc]),
);

function deploymentEnv(service: string): Record<string, string> {
  const d = manifests.find((m) => m.doc.kind === 'Deployment' && nameOf(m.doc) === service);
  const env: Record<string, string> = {};
  for (const e of containerEnv(podContainers(obj(d?.doc, service))[0]!, configMaps)) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.field !== undefined) env[e.name] = `${service}-7c9d5b8f6-q4z2m`;
    else if (e.secret && !e.secret.optional) {
      env[e.name] = EXTERNAL_SECRETS[e.secret.name]![e.secret.key]!;
    }
  }
  return env;
}

/** node_modules/@tenantry/* links as `npm ci` creates them from the lock (link: true entries). */
function linkWorkspaces(outDir: string): void {
  const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { resolved?: string; link?: boolean }>;
  };
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (!entry.link || !entry.resolved) continue;
    const linkPath = path.join(outDir, where);
    fs.mkdirSync(path.dirname(linkPath), { recursive: true });
    fs.symlinkSync(
      path.relative(path.dirname(linkPath), path.join(outDir, entry.resolved)),
      linkPath,
    );
  }
}

const PROBE = `
const path = require('node:path');
const [service, loader, envJson] = process.argv.slice(2);
const out = process.cwd();
const problems = [];
const resolved = require.resolve('@tenantry/tenancy');
if (!resolved.startsWith(out + path.sep)) problems.push('@tenantry/tenancy resolved to ' + resolved);
const mod = require('./services/' + service + '/src/config.js');
const config = mod[loader](JSON.parse(envJson));
// Every compiled module of the service loads (entities evaluate their decorators on load).
const fs = require('node:fs');
const files = fs.readdirSync('services/' + service + '/src', { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.js') && !f.startsWith('cli/') && f !== 'main.js');
for (const f of files) require('./services/' + service + '/src/' + f);
process.stdout.write(JSON.stringify({ problems, config, modules: files.length }));
`;

const run = promisify(execFile);
const SERVICES = servicesWithMain();
const outDirs = new Map<string, string>();

// Every service's build (a whole tsc program each, single-threaded) is started up front, two at a
// time, instead of one after another in each service's own beforeAll.
beforeAll(async () => {
  const queue = [...SERVICES];
  const builder = async (): Promise<void> => {
    for (let service = queue.shift(); service; service = queue.shift()) {
      const outDir = fs.mkdtempSync(path.join(os.tmpdir(), `tenantry-image-${service}-`));
      outDirs.set(service, outDir);
      await run(process.execPath, ['deploy/docker/build-service.mjs', service, outDir], {
        cwd: REPO_ROOT,
        maxBuffer: 16 * 1024 * 1024,
      });
      linkWorkspaces(outDir);
    }
  };
  await Promise.all([builder(), builder()]);
}, 600_000);

afterAll(() => {
  for (const outDir of outDirs.values()) fs.rmSync(outDir, { recursive: true, force: true });
});

describe.each(SERVICES)('image build of %s', (service) => {
  let outDir = '';

  beforeAll(() => {
    outDir = outDirs.get(service) ?? '';
  });

  const filesOf = (): string[] =>
    fs
      .readdirSync(outDir, { recursive: true, encoding: 'utf8' })
      .filter((f) => !f.startsWith('node_modules') && f !== 'probe.js');

  it('emits JavaScript only for this service and the libs it imports, no tests', () => {
    const files = filesOf();
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    expect(files.filter((f) => /\.spec\.js$|\/test\//.test(f))).toEqual([]);
    const services = new Set(
      files.filter((f) => f.startsWith('services/')).map((f) => f.split('/')[1]),
    );
    expect([...services]).toEqual([service]);
    expect(files).not.toContain(path.join('libs', 'testing', 'package.json'));
    expect(fs.readFileSync(path.join(outDir, 'main.js'), 'utf8')).toContain(
      `require('./services/${service}/src/main.js')`,
    );
  });

  it('points every shipped manifest at its compiled entry', () => {
    for (const f of filesOf().filter((x) => x.endsWith('package.json'))) {
      const manifest = JSON.parse(fs.readFileSync(path.join(outDir, f), 'utf8')) as Obj;
      expect(String(manifest.main)).toMatch(/\.js$/);
      expect(fs.existsSync(path.join(outDir, path.dirname(f), String(manifest.main)))).toBe(true);
    }
  });

  it('emits decorator metadata for TypeORM entities', () => {
    const entities = filesOf().filter((f) => f.endsWith('.entity.js'));
    for (const f of entities) {
      expect(fs.readFileSync(path.join(outDir, f), 'utf8')).toMatch(/__metadata\("design:type"/);
    }
  });

  // A service without a Deployment yet has no environment to check against.
  const withDeployment = SERVICES_NOT_YET_DEPLOYED.includes(service) ? it.skip : it;
  withDeployment('loads with plain node, and its config accepts the Deployment environment', () => {
    const env = deploymentEnv(service);
    // A file, not `node -e`: TypeORM's app-root-path needs require.main.
    fs.writeFileSync(path.join(outDir, 'probe.js'), PROBE);
    const out = execFileSync(
      process.execPath,
      ['probe.js', service, CONFIG_LOADERS[service] ?? 'loadConfig', JSON.stringify(env)],
      {
        cwd: outDir,
        encoding: 'utf8',
        // Third-party packages from the repository's install; @tenantry/* from the links above.
        env: { PATH: process.env.PATH ?? '', NODE_PATH: path.join(REPO_ROOT, 'node_modules') },
      },
    );
    const result = JSON.parse(out) as { problems: string[]; config: Obj; modules: number };
    expect(result.problems).toEqual([]);
    expect(result.modules).toBeGreaterThan(3);
    expect(JSON.stringify(result.config)).not.toMatch(/127\.0\.0\.1|localhost/);
    expect(list(result.config.kafkaBrokers).length).toBeGreaterThan(0);
  });
});
