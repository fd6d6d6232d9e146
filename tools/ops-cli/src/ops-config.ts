import { UsageError } from './exit-codes';

/** The local stack's ports (deploy/local/lib/stack-config.mjs, dev profile). */
export const DEFAULT_METRICS_URLS: Readonly<Record<string, string>> = {
  identity: 'http://127.0.0.1:4001/metrics',
  authorization: 'http://127.0.0.1:4002/metrics',
  billing: 'http://127.0.0.1:4003/metrics',
  // The gateway serves metrics on their own port (METRICS_PORT), never on the client port.
  gateway: 'http://127.0.0.1:9464/metrics',
};

export interface GlobalFlags {
  readonly apiUrl?: string;
  readonly email?: string;
  readonly brokers?: string;
  readonly zipkinUrl?: string;
  readonly metrics?: string;
  readonly timeout?: number;
  readonly json?: boolean;
}

export interface OpsConfig {
  readonly apiUrl: string;
  readonly operatorEmail: string | undefined;
  readonly operatorPassword: string | undefined;
  readonly kafkaBrokers: string[];
  readonly zipkinUrl: string;
  readonly metricsUrls: Record<string, string>;
  readonly timeoutMs: number;
  readonly json: boolean;
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function httpUrl(name: string, value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new UsageError(`${name} is not a URL: ${value}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`${name} must be an http(s) URL: ${value}`);
  }
  return withoutTrailingSlash(value);
}

/** `identity=http://h:4001/metrics,billing=http://h:4003/metrics` */
export function parseMetricsUrls(name: string, value: string): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const pair of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`${name} wants service=url pairs, not ${pair}`);
    urls[pair.slice(0, at).trim()] = httpUrl(name, pair.slice(at + 1).trim());
  }
  if (Object.keys(urls).length === 0) throw new UsageError(`${name} names no service`);
  return urls;
}

/** Flags win over the environment, which wins over the local stack's defaults. */
export function resolveOpsConfig(flags: GlobalFlags, env: NodeJS.ProcessEnv): OpsConfig {
  const brokers = (flags.brokers ?? env.KAFKA_BROKERS ?? '127.0.0.1:9092')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new UsageError('no Kafka broker given (KAFKA_BROKERS)');
  const metrics = flags.metrics ?? env.TENANTRY_METRICS_URLS;
  return {
    apiUrl: httpUrl(
      'TENANTRY_API_URL',
      flags.apiUrl ?? env.TENANTRY_API_URL ?? 'http://127.0.0.1:8080',
    ),
    operatorEmail: flags.email ?? env.TENANTRY_OPERATOR_EMAIL,
    operatorPassword: env.TENANTRY_OPERATOR_PASSWORD,
    kafkaBrokers: brokers,
    zipkinUrl: httpUrl('ZIPKIN_URL', flags.zipkinUrl ?? env.ZIPKIN_URL ?? 'http://127.0.0.1:9411'),
    metricsUrls: metrics
      ? parseMetricsUrls('TENANTRY_METRICS_URLS', metrics)
      : { ...DEFAULT_METRICS_URLS },
    timeoutMs: (flags.timeout ?? 30) * 1000,
    json: flags.json === true,
  };
}
