// A small, offline stand-in for `kustomize build`: resolves `resources`, `namespace`, `images`
// and `patches` (strategic merge, approximated: maps merge, lists of named items merge by name,
// other lists are replaced). Anything else in a kustomization.yaml is refused, so a feature the
// resolver does not know cannot be silently ignored by the checks built on it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const K8S_DIR = path.join(REPO_ROOT, 'deploy/k8s');

export type Obj = Record<string, unknown>;

export interface Manifest {
  readonly file: string;
  readonly doc: Obj;
}

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function obj(value: unknown, what: string): Obj {
  if (!isObj(value)) throw new Error(`${what}: expected a mapping`);
  return value;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Every YAML document of a file, failing on any syntax error or warning. */
export function parseYamlFile(file: string): Obj[] {
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'), { prettyErrors: true });
  const out: Obj[] = [];
  for (const doc of docs) {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) {
      throw new Error(`${file}: ${problems.map((p) => p.message).join('; ')}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    out.push(obj(value, file));
  }
  return out;
}

export function yamlFilesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(dir, f))
    .sort();
}

export const KNOWN_KINDS: ReadonlySet<string> = new Set([
  'v1/Namespace',
  'v1/ConfigMap',
  'v1/Service',
  'v1/ServiceAccount',
  'v1/PersistentVolumeClaim',
  'apps/v1/Deployment',
  'policy/v1/PodDisruptionBudget',
  'autoscaling/v2/HorizontalPodAutoscaler',
  'networking.k8s.io/v1/NetworkPolicy',
  'networking.k8s.io/v1/Ingress',
]);

const CLUSTER_SCOPED = new Set(['Namespace']);

export function kindOf(doc: Obj): string {
  return `${str(doc.apiVersion) ?? '?'}/${str(doc.kind) ?? '?'}`;
}

export function nameOf(doc: Obj): string {
  return str(obj(doc.metadata, 'metadata').name) ?? '';
}

export interface Rendered {
  readonly manifests: Manifest[];
  /** Every file the kustomizations (transitively) read, absolute paths. */
  readonly filesRead: Set<string>;
}

const KUSTOMIZATION_KEYS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'images',
  'patches',
]);

export function renderKustomization(dir: string, filesRead = new Set<string>()): Rendered {
  const kfile = path.join(dir, 'kustomization.yaml');
  if (!fs.existsSync(kfile)) throw new Error(`${dir}: no kustomization.yaml`);
  filesRead.add(kfile);
  const [k, ...extra] = parseYamlFile(kfile);
  if (!k || extra.length > 0) throw new Error(`${kfile}: expected exactly one document`);
  if (kindOf(k) !== 'kustomize.config.k8s.io/v1beta1/Kustomization') {
    throw new Error(`${kfile}: not a kustomize.config.k8s.io/v1beta1 Kustomization`);
  }
  for (const key of Object.keys(k)) {
    if (!KUSTOMIZATION_KEYS.has(key)) throw new Error(`${kfile}: unsupported field ${key}`);
  }

  let manifests: Manifest[] = [];
  for (const entry of list(k.resources)) {
    const rel = str(entry);
    if (!rel) throw new Error(`${kfile}: a resource is not a path`);
    const target = path.resolve(dir, rel);
    if (!fs.existsSync(target)) throw new Error(`${kfile}: resource ${rel} does not exist`);
    if (fs.statSync(target).isDirectory()) {
      manifests.push(...renderKustomization(target, filesRead).manifests);
    } else {
      filesRead.add(target);
      const docs = parseYamlFile(target);
      if (docs.length === 0) throw new Error(`${target}: no documents`);
      manifests.push(...docs.map((doc) => ({ file: target, doc })));
    }
  }

  for (const entry of list(k.patches)) {
    const patch = obj(entry, `${kfile}: patch`);
    const rel = str(patch.path);
    if (!rel || patch.patch !== undefined)
      throw new Error(`${kfile}: only file patches are supported`);
    const file = path.resolve(dir, rel);
    if (!fs.existsSync(file)) throw new Error(`${kfile}: patch ${rel} does not exist`);
    filesRead.add(file);
    for (const p of parseYamlFile(file)) {
      const matches = manifests.filter(
        (m) => kindOf(m.doc) === kindOf(p) && nameOf(m.doc) === nameOf(p),
      );
      if (matches.length !== 1) {
        throw new Error(
          `${file}: patch ${kindOf(p)} ${nameOf(p)} matches ${matches.length} resources`,
        );
      }
      manifests = manifests.map((m) =>
        m === matches[0] ? { file: m.file, doc: obj(merge(m.doc, p), file) } : m,
      );
    }
  }

  const namespace = str(k.namespace);
  if (namespace) {
    manifests = manifests.map((m) => {
      if (CLUSTER_SCOPED.has(str(m.doc.kind) ?? '')) return m;
      const metadata = { ...obj(m.doc.metadata, 'metadata'), namespace };
      return { file: m.file, doc: { ...m.doc, metadata } };
    });
  }

  for (const entry of list(k.images)) {
    const image = obj(entry, `${kfile}: image`);
    const name = str(image.name);
    if (!name) throw new Error(`${kfile}: image without name`);
    let used = false;
    for (const m of manifests) {
      for (const c of podContainers(m.doc)) {
        const ref = str(c.image) ?? '';
        const bare = ref.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
        if (bare !== name) continue;
        used = true;
        const tag = str(image.newTag) ?? (ref.includes(':') ? ref.split(':').pop() : undefined);
        c.image = `${str(image.newName) ?? name}${str(image.digest) ? `@${str(image.digest)}` : tag ? `:${tag}` : ''}`;
      }
    }
    if (!used) throw new Error(`${kfile}: image ${name} matches no container`);
  }
  return { manifests, filesRead };
}

function merge(base: unknown, patch: unknown): unknown {
  if (isObj(base) && isObj(patch)) {
    const out: Obj = { ...base };
    for (const [key, value] of Object.entries(patch)) out[key] = merge(base[key], value);
    return out;
  }
  if (Array.isArray(base) && Array.isArray(patch) && patch.every((p) => isObj(p) && 'name' in p)) {
    const out = base.map((b) => {
      const p = patch.find((x) => isObj(x) && isObj(b) && x.name === b.name);
      return p === undefined ? b : merge(b, p);
    });
    for (const p of patch) {
      if (!base.some((b) => isObj(b) && isObj(p) && b.name === p.name)) out.push(p);
    }
    return out;
  }
  return structuredClone(patch);
}

/** The pod spec of a workload, or undefined for other kinds. */
export function podSpec(doc: Obj): Obj | undefined {
  if (str(doc.kind) !== 'Deployment') return undefined;
  const spec = obj(doc.spec, `${nameOf(doc)}: spec`);
  return obj(obj(spec.template, 'template').spec, 'template.spec');
}

export function podContainers(doc: Obj): Obj[] {
  const spec = podSpec(doc);
  if (!spec) return [];
  return [...list(spec.initContainers), ...list(spec.containers)].map((c) => obj(c, 'container'));
}

export function podLabels(doc: Obj): Obj {
  const spec = obj(doc.spec, 'spec');
  return obj(obj(obj(spec.template, 'template').metadata, 'template.metadata').labels, 'labels');
}

/** Whether every key/value of `selector` is among `labels`. */
export function labelsMatch(selector: Obj, labels: Obj): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** A Kubernetes LabelSelector (matchLabels + matchExpressions with In/NotIn/Exists). */
export function selectorMatches(selector: Obj, labels: Obj): boolean {
  const matchLabels = isObj(selector.matchLabels) ? selector.matchLabels : {};
  if (!labelsMatch(matchLabels, labels)) return false;
  return list(selector.matchExpressions).every((e) => {
    const expr = obj(e, 'matchExpression');
    const key = str(expr.key) ?? '';
    const values = list(expr.values);
    switch (str(expr.operator)) {
      case 'In':
        return values.includes(labels[key]);
      case 'NotIn':
        return !values.includes(labels[key]);
      case 'Exists':
        return key in labels;
      case 'DoesNotExist':
        return !(key in labels);
      default:
        throw new Error(`unknown selector operator ${String(expr.operator)}`);
    }
  });
}

export interface EnvSource {
  readonly name: string;
  readonly value?: string;
  readonly configMap?: string;
  readonly secret?: { readonly name: string; readonly key: string; readonly optional: boolean };
  readonly field?: string;
}

/** Each environment variable of a container and where it comes from (envFrom expanded). */
export function containerEnv(container: Obj, configMaps: ReadonlyMap<string, Obj>): EnvSource[] {
  const out = new Map<string, EnvSource>();
  for (const entry of list(container.envFrom)) {
    const from = obj(entry, 'envFrom');
    if (from.secretRef !== undefined) throw new Error('envFrom secretRef: list secret keys in env');
    const cmName = str(obj(from.configMapRef, 'configMapRef').name) ?? '';
    const cm = configMaps.get(cmName);
    if (!cm) throw new Error(`configMap ${cmName} is not among the manifests`);
    for (const [k, v] of Object.entries(isObj(cm.data) ? cm.data : {})) {
      out.set(k, { name: k, value: String(v), configMap: cmName });
    }
  }
  for (const entry of list(container.env)) {
    const e = obj(entry, 'env');
    const name = str(e.name) ?? '';
    if (e.value !== undefined) {
      out.set(name, { name, value: String(e.value) });
      continue;
    }
    const from = obj(e.valueFrom, `env ${name}: valueFrom`);
    if (isObj(from.secretKeyRef)) {
      const ref = from.secretKeyRef;
      out.set(name, {
        name,
        secret: {
          name: str(ref.name) ?? '',
          key: str(ref.key) ?? '',
          optional: ref.optional === true,
        },
      });
    } else if (isObj(from.configMapKeyRef)) {
      const ref = from.configMapKeyRef;
      const cm = configMaps.get(str(ref.name) ?? '');
      const data = cm && isObj(cm.data) ? cm.data : {};
      const key = str(ref.key) ?? '';
      if (!(key in data))
        throw new Error(`env ${name}: configMap key ${str(ref.name)}/${key} missing`);
      out.set(name, { name, value: String(data[key]), configMap: str(ref.name) ?? '' });
    } else if (isObj(from.fieldRef)) {
      out.set(name, { name, field: str(from.fieldRef.fieldPath) ?? '' });
    } else {
      throw new Error(`env ${name}: unsupported valueFrom`);
    }
  }
  return [...out.values()];
}

export interface StackConfigView {
  readonly devPorts: Readonly<Record<string, number>>;
  readonly services: readonly {
    name: string;
    cmd: string[];
    envKeys: string[];
    /** The environment itself (placeholder addresses), for checks of its values. */
    env: Record<string, string>;
  }[];
}

/** deploy/local/lib/stack-config.mjs (an ES module), read in a child node process. */
export function readStackConfig(): StackConfigView {
  const script = `
    const m = await import(${JSON.stringify(path.join(REPO_ROOT, 'deploy/local/lib/stack-config.mjs'))});
    const db = new Proxy({}, { get: (_t, name) => ({ appUrl: 'postgres://a@h/' + String(name), ownerUrl: 'postgres://o@h/' + String(name) }) });
    const addr = { kafkaBrokers: ['k:9092'], schemaRegistryUrl: 'http://r', zipkinUrl: 'http://z', databases: db };
    const ports = m.PROFILE_DEFAULTS.dev;
    process.stdout.write(JSON.stringify({
      devPorts: ports,
      services: m.SERVICES.map((s) => ({ name: s.name, cmd: s.cmd, envKeys: Object.keys(s.env(addr, ports)), env: s.env(addr, ports) })),
    }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  return JSON.parse(out) as StackConfigView;
}

/**
 * Services with an entry point that the local stack and the Kubernetes base do not run yet (none
 * today): the consistency checks skip a name listed here until its wiring (gateway route, stack
 * entry, manifests) lands.
 */
export const SERVICES_NOT_YET_DEPLOYED: readonly string[] = [];

/** Services with an entry point: services/<name>/src/main.ts. */
export function servicesWithMain(): string[] {
  return fs
    .readdirSync(path.join(REPO_ROOT, 'services'))
    .filter((name) => fs.existsSync(path.join(REPO_ROOT, 'services', name, 'src/main.ts')))
    .sort();
}
