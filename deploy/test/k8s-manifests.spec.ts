// Offline validation of deploy/k8s: every YAML parses, the kustomizations render (by the small
// resolver in manifest-helpers.ts), and the rendered objects hold the platform's rules.
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig as loadAuthorizationConfig } from '../../services/authorization/src/config';
import { loadConfig as loadBillingConfig } from '../../services/billing/src/config';
import { loadConfig as loadReportingConfig } from '../../services/reporting/src/config';
import { loadGatewayConfig } from '../../services/gateway/src/config';
import { loadConfig as loadIdentityConfig } from '../../services/identity/src/config';
import { topicSettingsFromEnv } from '../../libs/events/src/kafka/topic-settings';
import {
  EXTERNAL_SECRETS,
  HTTP_DRAIN_SECONDS,
  INGRESS_CONTROLLER_NAMESPACE,
  LOCAL_ONLY_ENV,
  MONITORING_NAMESPACE,
  OPTIONAL_SECRET_KEYS,
  SERVICES,
} from './deploy-expectations';
import type { Manifest, Obj } from './manifest-helpers';
import {
  K8S_DIR,
  KNOWN_KINDS,
  REPO_ROOT,
  containerEnv,
  isObj,
  kindOf,
  labelsMatch,
  list,
  nameOf,
  obj,
  parseYamlFile,
  podContainers,
  podLabels,
  podSpec,
  readStackConfig,
  renderKustomization,
  selectorMatches,
  SERVICES_NOT_YET_DEPLOYED,
  servicesWithMain,
  str,
  yamlFilesUnder,
} from './manifest-helpers';

const LOADERS: Readonly<Record<string, (env: NodeJS.ProcessEnv) => unknown>> = {
  identity: loadIdentityConfig,
  authorization: loadAuthorizationConfig,
  billing: loadBillingConfig,
  reporting: loadReportingConfig,
  gateway: loadGatewayConfig,
};

const KUSTOMIZATIONS = ['base', 'overlays/production'];
const rendered = Object.fromEntries(
  KUSTOMIZATIONS.map((k) => [k, renderKustomization(path.join(K8S_DIR, k))]),
);

const byKind = (manifests: Manifest[], kind: string): Obj[] =>
  manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);

/** The environment a container gets, with Secrets replaced by the declared test stand-ins. */
function podEnvironment(deployment: Obj, manifests: Manifest[]): NodeJS.ProcessEnv {
  const configMaps = new Map(byKind(manifests, 'ConfigMap').map((cm) => [nameOf(cm), cm]));
  const [container] = list(obj(podSpec(deployment), 'pod').containers).map((c) => obj(c, 'c'));
  const env: NodeJS.ProcessEnv = {};
  for (const e of containerEnv(obj(container, 'container'), configMaps)) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.field !== undefined) env[e.name] = `${nameOf(deployment)}-5d8f7c9b4-x2k7q`;
    else if (e.secret && !e.secret.optional)
      env[e.name] = EXTERNAL_SECRETS[e.secret.name]?.[e.secret.key];
  }
  return env;
}

describe('deploy/k8s YAML', () => {
  const files = yamlFilesUnder(K8S_DIR);

  it('has manifests, and every file parses', () => {
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) expect(() => parseYamlFile(file)).not.toThrow();
  });

  it('every file is used by a kustomization (no stray manifests)', () => {
    const used = new Set<string>();
    for (const r of Object.values(rendered)) for (const f of r.filesRead) used.add(f);
    expect(files.filter((f) => !used.has(f)).map((f) => path.relative(REPO_ROOT, f))).toEqual([]);
  });
});

describe.each(KUSTOMIZATIONS)('kustomization %s', (name) => {
  const { manifests } = rendered[name]!;
  const docs = manifests.map((m) => m.doc);
  const deployments = byKind(manifests, 'Deployment');
  const services = byKind(manifests, 'Service');
  const configMaps = new Map(byKind(manifests, 'ConfigMap').map((cm) => [nameOf(cm), cm]));

  it('renders known apiVersion/kind pairs, each object named once', () => {
    for (const m of manifests) {
      expect({ file: m.file, kind: kindOf(m.doc), known: KNOWN_KINDS.has(kindOf(m.doc)) }).toEqual({
        file: m.file,
        kind: kindOf(m.doc),
        known: true,
      });
      expect(nameOf(m.doc)).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    const ids = docs.map((d) => `${kindOf(d)} ${nameOf(d)}`);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('commits no Secret (only references to Secrets created outside git)', () => {
    expect(docs.filter((d) => d.kind === 'Secret').map(nameOf)).toEqual([]);
    const text = manifests.map((m) => fs.readFileSync(m.file, 'utf8')).join('\n');
    for (const keys of Object.values(EXTERNAL_SECRETS)) {
      for (const example of Object.values(keys)) expect(text).not.toContain(example);
    }
  });

  it('has one Deployment per service with an entry point, and nothing else', () => {
    const deployed = servicesWithMain().filter((s) => !SERVICES_NOT_YET_DEPLOYED.includes(s));
    expect(deployments.map(nameOf).sort()).toEqual(deployed);
    expect(Object.keys(SERVICES).sort()).toEqual(deployed);
  });

  it.each(Object.keys(SERVICES))('Deployment %s is hardened, probed and sized', (service) => {
    const d = deployments.find((x) => nameOf(x) === service);
    expect(d).toBeDefined();
    const spec = obj(d!.spec, 'spec');
    expect(labelsMatch(obj(obj(spec.selector, 'sel').matchLabels, 'ml'), podLabels(d!))).toBe(true);
    const replicas = Number(spec.replicas);
    if (service === 'gateway') expect(replicas).toBeGreaterThan(2);
    else expect(replicas).toBe(2);

    const pod = obj(podSpec(d!), 'pod');
    const podSec = isObj(pod.securityContext) ? pod.securityContext : {};
    expect(podSec.runAsNonRoot).toBe(true);
    expect(Number(podSec.runAsUser)).toBeGreaterThan(0);
    expect(pod.automountServiceAccountToken).toBe(false);

    const containers = podContainers(d!);
    expect(containers).toHaveLength(1);
    const c = containers[0]!;
    expect(str(c.image)).toMatch(
      new RegExp(`(^|/)tenantry/${service}(:[\\w.-]+|@sha256:[0-9a-f]{64})?$`),
    );
    const sec = obj(c.securityContext, 'container securityContext');
    expect(sec.runAsNonRoot ?? podSec.runAsNonRoot).toBe(true);
    expect(sec.allowPrivilegeEscalation).toBe(false);
    expect(sec.readOnlyRootFilesystem).toBe(true);
    expect(sec.privileged ?? false).toBe(false);
    expect(list(obj(sec.capabilities, 'capabilities').drop)).toEqual(['ALL']);
    expect(obj(sec.capabilities, 'capabilities').add).toBeUndefined();
    const seccomp = isObj(sec.seccompProfile) ? sec.seccompProfile : podSec.seccompProfile;
    expect(obj(seccomp, 'seccompProfile').type).toBe('RuntimeDefault');

    // A read-only root still needs a writable /tmp.
    const mounts = list(c.volumeMounts).map((v) => obj(v, 'mount'));
    expect(mounts.some((m) => m.mountPath === '/tmp')).toBe(true);

    const ports = list(c.ports).map((p) => obj(p, 'port'));
    const http = ports.find((p) => p.name === 'http');
    expect(http).toBeDefined();
    const probe = (key: string): Obj => obj(obj(c[key], key).httpGet, `${key}.httpGet`);
    expect(probe('livenessProbe')).toMatchObject({ path: '/healthz', port: 'http' });
    expect(probe('readinessProbe')).toMatchObject({ path: '/readyz', port: 'http' });

    const resources = obj(c.resources, 'resources');
    for (const kind of ['requests', 'limits']) {
      expect(obj(resources[kind], kind)).toEqual(
        expect.objectContaining({ cpu: expect.anything(), memory: expect.anything() }),
      );
    }

    // SIGTERM -> preStop sleep, HTTP drain, then consumers/relay/pools stop: all within the grace.
    const preStop = list(
      obj(obj(obj(c.lifecycle, 'lifecycle').preStop, 'preStop').exec, 'exec').command,
    );
    const sleep = preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
    expect(Number(pod.terminationGracePeriodSeconds)).toBeGreaterThanOrEqual(
      sleep + HTTP_DRAIN_SECONDS + 15,
    );

    const annotations = obj(obj(obj(spec.template, 't').metadata, 'm').annotations, 'annotations');
    expect(annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/path': '/metrics',
      // The gateway's client port serves no metrics: they have a port of their own there.
      'prometheus.io/port': String(
        (ports.find((p) => p.name === 'metrics') ?? http)!.containerPort,
      ),
    });
  });

  it.each(Object.entries(SERVICES))(
    'Deployment %s gets the environment its config needs',
    (service, expected) => {
      const d = deployments.find((x) => nameOf(x) === service)!;
      const c = podContainers(d)[0]!;
      const env = containerEnv(c, configMaps);
      const names = env.map((e) => e.name);
      for (const key of [...expected.required, ...expected.production])
        expect(names).toContain(key);
      for (const e of env) {
        if (!e.secret) continue;
        expect(Object.keys(EXTERNAL_SECRETS)).toContain(e.secret.name);
        expect(Object.keys(EXTERNAL_SECRETS[e.secret.name]!)).toContain(e.secret.key);
        expect(e.secret.optional).toBe(OPTIONAL_SECRET_KEYS.has(e.secret.key));
      }
      // Secrets stay out of ConfigMaps.
      for (const e of env) {
        if (e.configMap)
          expect(e.name).not.toMatch(/SECRET|PASSWORD|DATABASE_URL|DATABASE_OWNER_URL|REDIS_URL/);
      }
      const byName = new Map(env.map((e) => [e.name, e]));
      expect(byName.get('TELEMETRY_EXPORTER')?.value).toBe('otlp');
      expect(byName.get('OTEL_EXPORTER_OTLP_ENDPOINT')?.value).toMatch(/^https?:\/\//);
      const port = obj(list(c.ports)[0], 'port').containerPort;
      expect(byName.get('PORT')?.value).toBe(String(port));
    },
  );

  it('gives the context-token private key to the gateway only (ADR 0010)', () => {
    const holders = deployments.filter((d) =>
      podContainers(d).some((c) =>
        containerEnv(c, configMaps).some(
          (e) =>
            e.name === 'CONTEXT_TOKEN_PRIVATE_KEY' ||
            e.secret?.name === 'tenantry-gateway-context-key',
        ),
      ),
    );
    expect(holders.map(nameOf)).toEqual(['gateway']);
  });

  it.each(Object.keys(SERVICES))("the service's own config accepts %s's environment", (service) => {
    const d = deployments.find((x) => nameOf(x) === service)!;
    const env = podEnvironment(d, manifests);
    const load = LOADERS[service]!;
    const config = load(env);
    // Nothing falls back to the local stack's defaults.
    expect(JSON.stringify(config)).not.toMatch(/127\.0\.0\.1|localhost/);
    // The declared required keys are really required by the service.
    for (const key of SERVICES[service]!.required) {
      const without = { ...env };
      delete without[key];
      expect(() => load(without)).toThrow();
    }
  });

  it('every Service selects a Deployment, on a port that container names', () => {
    expect(services.length).toBeGreaterThan(0);
    for (const s of services) {
      const spec = obj(s.spec, 'spec');
      const selector = obj(spec.selector, `${nameOf(s)}: selector`);
      const targets = deployments.filter((d) => labelsMatch(selector, podLabels(d)));
      expect({ service: nameOf(s), targets: targets.length }).toEqual({
        service: nameOf(s),
        targets: 1,
      });
      const portNames = podContainers(targets[0]!).flatMap((c) =>
        list(c.ports).map((p) => obj(p, 'p').name),
      );
      for (const p of list(spec.ports)) expect(portNames).toContain(obj(p, 'port').targetPort);
    }
  });

  it('every PodDisruptionBudget selects a Deployment and lets one pod go at a time', () => {
    const pdbs = byKind(manifests, 'PodDisruptionBudget');
    expect(pdbs.map(nameOf).sort()).toEqual(deployments.map(nameOf).sort());
    for (const pdb of pdbs) {
      const spec = obj(pdb.spec, 'spec');
      const selected = deployments.filter((d) =>
        selectorMatches(obj(spec.selector, 's'), podLabels(d)),
      );
      expect(selected.map(nameOf)).toEqual([nameOf(pdb)]);
      expect(spec.maxUnavailable ?? spec.minAvailable).toBeDefined();
    }
  });

  it('the gateway, and only it, autoscales, from at least its Deployment replicas', () => {
    const hpas = byKind(manifests, 'HorizontalPodAutoscaler');
    expect(hpas.map(nameOf)).toEqual(['gateway']);
    const spec = obj(hpas[0]!.spec, 'spec');
    expect(obj(spec.scaleTargetRef, 'ref')).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'gateway',
    });
    const gateway = deployments.find((d) => nameOf(d) === 'gateway')!;
    expect(Number(spec.minReplicas)).toBeGreaterThanOrEqual(
      Number(obj(gateway.spec, 's').replicas),
    );
    expect(Number(spec.maxReplicas)).toBeGreaterThan(Number(spec.minReplicas));
  });

  it('the only Ingress routes to the gateway Service', () => {
    const ingresses = byKind(manifests, 'Ingress');
    expect(ingresses).toHaveLength(1);
    const gatewayService = services.find((s) => nameOf(s) === 'gateway')!;
    const servicePorts = list(obj(gatewayService.spec, 's').ports).map((p) => obj(p, 'p').name);
    const backends = list(obj(ingresses[0]!.spec, 'spec').rules).flatMap((r) =>
      list(obj(obj(r, 'rule').http, 'http').paths).map((p) =>
        obj(obj(obj(p, 'path').backend, 'b').service, 's'),
      ),
    );
    expect(backends.length).toBeGreaterThan(0);
    for (const b of backends) {
      expect(b.name).toBe('gateway');
      expect(servicePorts).toContain(obj(b.port, 'port').name);
    }
  });

  it('NetworkPolicies: default deny; services only from the gateway, the gateway only from the ingress controller', () => {
    const policies = byKind(manifests, 'NetworkPolicy').map((p) => obj(p.spec, 'spec'));
    const gatewayLabels = podLabels(deployments.find((d) => nameOf(d) === 'gateway')!);
    for (const d of deployments) {
      const labels = podLabels(d);
      const applying = policies.filter((p) =>
        selectorMatches(obj(p.podSelector, 'podSelector'), labels),
      );
      // Selected by an Ingress policy, so anything not allowed is refused.
      expect(applying.some((p) => list(p.policyTypes).includes('Ingress'))).toBe(true);
      const peers = applying
        .flatMap((p) =>
          list(p.ingress).map((rule) => {
            const from = list(obj(rule, 'rule').from).map((f) => obj(f, 'peer'));
            expect(from.length).toBeGreaterThan(0); // an empty `from` would allow everyone
            return from;
          }),
        )
        .flat();
      for (const peer of peers) {
        expect(peer.ipBlock).toBeUndefined();
        const ns = isObj(peer.namespaceSelector) ? peer.namespaceSelector : undefined;
        const nsName = ns ? obj(ns.matchLabels, 'ns')['kubernetes.io/metadata.name'] : undefined;
        if (nameOf(d) === 'gateway') {
          expect([INGRESS_CONTROLLER_NAMESPACE, MONITORING_NAMESPACE]).toContain(nsName);
        } else if (ns) {
          expect(nsName).toBe(MONITORING_NAMESPACE);
        } else {
          expect(selectorMatches(obj(peer.podSelector, 'podSelector'), gatewayLabels)).toBe(true);
        }
      }
      if (nameOf(d) !== 'gateway') {
        expect(peers.some((p) => !p.namespaceSelector && isObj(p.podSelector))).toBe(true);
      }
    }
  });

  it('every referenced ConfigMap, Secret and ServiceAccount exists or is a declared external Secret', () => {
    const serviceAccounts = new Set(byKind(manifests, 'ServiceAccount').map(nameOf));
    const claims = byKind(manifests, 'PersistentVolumeClaim').map(nameOf);
    for (const d of deployments) {
      const pod = obj(podSpec(d), 'pod');
      expect(serviceAccounts.has(str(pod.serviceAccountName) ?? '')).toBe(true);
      for (const c of podContainers(d)) {
        for (const e of containerEnv(c, configMaps)) {
          if (e.configMap) expect(configMaps.has(e.configMap)).toBe(true);
          if (e.secret) expect(EXTERNAL_SECRETS[e.secret.name]?.[e.secret.key]).toBeDefined();
        }
      }
      for (const v of list(pod.volumes).map((x) => obj(x, 'volume'))) {
        if (isObj(v.secret)) expect(Object.keys(EXTERNAL_SECRETS)).toContain(v.secret.secretName);
        if (isObj(v.persistentVolumeClaim)) {
          expect(claims).toContain(str(v.persistentVolumeClaim.claimName));
        }
        if (isObj(v.configMap)) expect(configMaps.has(str(v.configMap.name) ?? '')).toBe(true);
      }
    }
  });
});

describe('overlay production', () => {
  const { manifests } = rendered['overlays/production']!;

  it('puts every namespaced object in one namespace that enforces the restricted standard', () => {
    const namespaces = byKind(manifests, 'Namespace');
    expect(namespaces).toHaveLength(1);
    const ns = nameOf(namespaces[0]!);
    expect(
      obj(obj(namespaces[0]!.metadata, 'm').labels, 'labels')['pod-security.kubernetes.io/enforce'],
    ).toBe('restricted');
    for (const m of manifests) {
      if (m.doc.kind !== 'Namespace') expect(obj(m.doc.metadata, 'm').namespace).toBe(ns);
    }
  });

  it('runs released images from a registry, never an untagged or :latest one', () => {
    for (const d of byKind(manifests, 'Deployment')) {
      for (const c of podContainers(d)) {
        expect(str(c.image)).toMatch(
          /^[a-z0-9.-]+\.[a-z]{2,}(:\d+)?\/.+(:[\w.-]+|@sha256:[0-9a-f]{64})$/,
        );
        expect(str(c.image)).not.toMatch(/:latest$/);
      }
    }
  });
});

describe('consistency with the local stack (deploy/local/lib/stack-config.mjs)', () => {
  const stack = readStackConfig();
  const deployments = byKind(rendered['overlays/production']!.manifests, 'Deployment');
  const configMaps = new Map(
    byKind(rendered['overlays/production']!.manifests, 'ConfigMap').map((cm) => [nameOf(cm), cm]),
  );

  it.each(stack.services.map((s) => [s.name, s] as const))(
    'service %s: same entry point, and every variable the local stack sets is set in production',
    (name, s) => {
      expect(s.cmd).toContain(`services/${name}/src/main.ts`);
      const d = deployments.find((x) => nameOf(x) === name);
      expect(d).toBeDefined();
      const names = containerEnv(podContainers(d!)[0]!, configMaps).map((e) => e.name);
      expect(s.envKeys.filter((k) => !LOCAL_ONLY_ENV.has(k) && !names.includes(k))).toEqual([]);
      const port = obj(list(podContainers(d!)[0]!.ports)[0], 'port').containerPort;
      expect(port).toBe(stack.devPorts[`${name.toUpperCase()}_PORT`]);
    },
  );

  it('the deployed services use the local dev ports', () => {
    for (const d of deployments) {
      const port = obj(list(podContainers(d)[0]!.ports)[0], 'port').containerPort;
      expect(port).toBe(stack.devPorts[`${nameOf(d).toUpperCase()}_PORT`]);
    }
  });
});

describe('Kafka topic durability (libs/events topic-settings.ts)', () => {
  it.each([
    ['base', { replicationFactor: 1, minInsyncReplicas: 1 }],
    ['overlays/production', { replicationFactor: 3, minInsyncReplicas: 2 }],
  ])('%s: every service provisions topics with the intended replication', (k, expected) => {
    const manifests = rendered[k]!.manifests;
    const deployments = byKind(manifests, 'Deployment');
    expect(deployments.length).toBeGreaterThan(0);
    for (const d of deployments) {
      expect(topicSettingsFromEnv(podEnvironment(d, manifests))).toEqual(expected);
    }
  });
});

describe('deploy/README.md', () => {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'deploy/README.md'), 'utf8');

  it('documents every external Secret and key', () => {
    for (const [name, keys] of Object.entries(EXTERNAL_SECRETS)) {
      expect(readme).toContain(name);
      for (const key of Object.keys(keys)) expect(readme).toContain(key);
    }
  });
});
