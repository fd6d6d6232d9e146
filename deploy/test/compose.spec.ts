// docker-compose.yml (the local stack as containers) parses and uses the process stack's ports.
import path from 'node:path';
import {
  REPO_ROOT,
  isObj,
  list,
  obj,
  parseYamlFile,
  readStackConfig,
  str,
} from './manifest-helpers';

const compose = parseYamlFile(path.join(REPO_ROOT, 'docker-compose.yml'));
const stack = readStackConfig();

/** Compose service -> the dev-profile key of deploy/local/lib/stack-config.mjs for its host port. */
const HOST_PORT_KEYS: Readonly<Record<string, string>> = {
  postgres: 'PG_PORT',
  kafka: 'KAFKA_PORT',
  registry: 'REGISTRY_PORT',
  zipkin: 'ZIPKIN_PORT',
};

describe('docker-compose.yml', () => {
  it('is one YAML document with services, each with an image', () => {
    expect(compose).toHaveLength(1);
    const services = obj(compose[0]!.services, 'services');
    expect(Object.keys(services).sort()).toEqual(Object.keys(HOST_PORT_KEYS).sort());
    for (const [name, s] of Object.entries(services)) {
      expect({ name, image: str(obj(s, name).image) }).toEqual({
        name,
        image: expect.stringMatching(/:\S+$/),
      });
    }
  });

  it.each(Object.entries(HOST_PORT_KEYS))(
    '%s publishes the dev port of the process stack',
    (name, key) => {
      const s = obj(obj(compose[0]!.services, 'services')[name], name);
      const ports = list(s.ports).map(String);
      expect(ports).toHaveLength(1);
      // '127.0.0.1:${PLATFORM_<KEY>:-<default>}:<container port>', like PLATFORM_<KEY> of the stack.
      const match = /^127\.0\.0\.1:\$\{PLATFORM_([A-Z_]+):-(\d+)\}:\d+$/.exec(ports[0]!);
      expect(match).not.toBeNull();
      expect(match![1]).toBe(key);
      expect(Number(match![2])).toBe(stack.devPorts[key]);
    },
  );

  it('depends only on services it defines', () => {
    const services = obj(compose[0]!.services, 'services');
    for (const s of Object.values(services)) {
      const deps = isObj(obj(s, 's').depends_on)
        ? Object.keys(obj(obj(s, 's').depends_on, 'd'))
        : [];
      for (const d of deps) expect(Object.keys(services)).toContain(d);
    }
  });
});
