// docker-compose.yml (the whole platform as containers) parses, uses the process stack's ports,
// and runs every service of deploy/local's SERVICES with the same environment, health checks
// and a start order by health.
import path from 'node:path';
import {
  REPO_ROOT,
  isObj,
  list,
  obj,
  parseYamlFile,
  readStackConfig,
  str,
  type Obj,
} from './manifest-helpers';

const compose = parseYamlFile(path.join(REPO_ROOT, 'docker-compose.yml'));
const stack = readStackConfig();
const services = (): Obj => obj(compose[0]!.services, 'services');
const service = (name: string): Obj => obj(services()[name], name);

/** Infrastructure in compose -> the dev-profile key of deploy/local/lib/stack-config.mjs. */
const INFRA_HOST_PORT_KEYS: Readonly<Record<string, string>> = {
  redis: 'REDIS_PORT',
  postgres: 'PG_PORT',
  kafka: 'KAFKA_PORT',
  registry: 'REGISTRY_PORT',
  zipkin: 'ZIPKIN_PORT',
};
/** Tracing is optional in both stacks: services start without waiting for it. */
const OPTIONAL = new Set(['zipkin']);
const PLATFORM = stack.services.map((s) => s.name);

/** Host port mappings '127.0.0.1:${PLATFORM_<KEY>:-<default>}:<container port>'. */
function publishedPorts(name: string): { key: string; host: number; container: number }[] {
  return list(service(name).ports).map((p) => {
    const match = /^127\.0\.0\.1:\$\{PLATFORM_([A-Z_]+):-(\d+)\}:(\d+)$/.exec(String(p));
    if (!match)
      throw new Error(`${name}: port ${String(p)} is not 127.0.0.1:\${PLATFORM_<KEY>:-n}:n`);
    return { key: match[1]!, host: Number(match[2]), container: Number(match[3]) };
  });
}

function environment(name: string): Record<string, string> {
  const env = service(name).environment;
  if (!isObj(env)) throw new Error(`${name}: environment must be a mapping`);
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

function dependsOn(name: string): Record<string, string> {
  const deps = service(name).depends_on;
  if (deps === undefined) return {};
  // The list form has no conditions: it would start a service before what it needs answers.
  return Object.fromEntries(
    Object.entries(obj(deps, `${name}.depends_on`)).map(([d, spec]) => [
      d,
      str(obj(spec, `${name}.depends_on.${d}`).condition) ?? '',
    ]),
  );
}

describe('docker-compose.yml', () => {
  it('is one YAML document: the infrastructure and every service of the process stack', () => {
    expect(compose).toHaveLength(1);
    expect(PLATFORM.length).toBeGreaterThan(0);
    expect(Object.keys(services()).sort()).toEqual(
      [...Object.keys(INFRA_HOST_PORT_KEYS), ...PLATFORM].sort(),
    );
    for (const name of Object.keys(services())) {
      expect({ name, image: str(service(name).image) }).toEqual({
        name,
        image: expect.stringMatching(/:\S+$/),
      });
    }
  });

  it.each(Object.entries(INFRA_HOST_PORT_KEYS))(
    '%s publishes the dev port of the process stack',
    (name, key) => {
      expect(publishedPorts(name)).toEqual([
        { key, host: stack.devPorts[key], container: expect.any(Number) },
      ]);
    },
  );

  it('depends only on services it defines', () => {
    for (const name of Object.keys(services())) {
      for (const d of Object.keys(dependsOn(name))) expect(Object.keys(services())).toContain(d);
    }
  });

  it('waits only for what has a health check (and for optional pieces not at all)', () => {
    for (const name of Object.keys(services())) {
      for (const [d, condition] of Object.entries(dependsOn(name))) {
        expect({ name, d, condition }).toEqual({
          name,
          d,
          condition: OPTIONAL.has(d) ? 'service_started' : 'service_healthy',
        });
        if (condition === 'service_healthy') {
          expect(list(obj(service(d).healthcheck, `${d}.healthcheck`).test).length).toBeGreaterThan(
            1,
          );
        }
      }
    }
  });

  describe.each(PLATFORM)('service %s', (name) => {
    const local = stack.services.find((s) => s.name === name)!;

    it('is built from this repository with deploy/docker/Dockerfile and SERVICE', () => {
      const build = obj(service(name).build, `${name}.build`);
      expect(build.context).toBe('.');
      expect(build.dockerfile).toBe('deploy/docker/Dockerfile');
      expect(obj(build.args, `${name}.build.args`).SERVICE).toBe(name);
    });

    it('has a health check on /readyz of its own port', () => {
      const check = list(obj(service(name).healthcheck, `${name}.healthcheck`).test).map(String);
      const port = environment(name).PORT;
      expect(check.join(' ')).toContain(`http://127.0.0.1:${port}/readyz`);
    });

    it('gets every variable the process stack sets, NODE_ENV=development for its dev secrets', () => {
      const env = environment(name);
      expect(Object.keys(env).sort()).toEqual(expect.arrayContaining([...local.envKeys].sort()));
      expect(env.NODE_ENV).toBe('development');
      for (const [key, value] of Object.entries(env)) {
        if (/SECRET/.test(key))
          expect({ key, value }).toEqual({
            key,
            value: expect.stringMatching(/^local-stack-only-/),
          });
      }
      // The development key pair: the same PEMs as the process stack (refused by key id outside
      // development); the private key to the gateway only, the public key to everyone else.
      for (const key of ['CONTEXT_TOKEN_PRIVATE_KEY', 'CONTEXT_TOKEN_PUBLIC_KEYS']) {
        expect({ key, value: env[key]?.trim() }).toEqual({ key, value: local.env[key]?.trim() });
      }
      expect('CONTEXT_TOKEN_PRIVATE_KEY' in env).toBe(name === 'gateway');
      expect('CONTEXT_TOKEN_PUBLIC_KEYS' in env).toBe(name !== 'gateway');
    });

    it('publishes its dev ports and listens on them in the container', () => {
      const env = environment(name);
      const keys = Object.keys(stack.devPorts).filter(
        (k) => k.startsWith(`${name.toUpperCase()}_`) && k.endsWith('_PORT'),
      );
      const ports = publishedPorts(name);
      expect(ports.map((p) => p.key).sort()).toEqual(keys.sort());
      for (const p of ports) {
        expect(p.host).toBe(stack.devPorts[p.key]);
        // PORT / METRICS_PORT in the container are the process stack's dev ports.
        const envKey =
          p.key === `${name.toUpperCase()}_PORT`
            ? 'PORT'
            : p.key.replace(`${name.toUpperCase()}_`, '');
        expect({ [envKey]: Number(env[envKey]) }).toEqual({ [envKey]: p.container });
      }
    });

    it('starts after everything its environment points at is healthy', () => {
      const deps = dependsOn(name);
      const hosts = new Set(
        Object.values(environment(name)).flatMap((v) =>
          [...v.matchAll(/(?:^|[/@,])([a-z][a-z0-9-]*):\d+/g)].map((m) => m[1]!),
        ),
      );
      const named = [...hosts].filter((h) => h in services());
      expect(named.length).toBeGreaterThan(0);
      for (const h of named)
        expect({ h, condition: deps[h] }).toEqual({
          h,
          condition: expect.stringMatching(/^service_(healthy|started)$/),
        });
    });
  });
});
