// "One client request produces one trace": a sign-up through the gateway, exported by every
// service to a real Zipkin of the test's own, then read back through Zipkin's own HTTP API.
import { randomUUID } from 'node:crypto';
import { waitFor } from '@tenantry/testing';
import { call } from '../support/api-client';
import { E2ePlatform } from '../support/platform';
import { freeLowPort, PrivateZipkin } from '../support/private-zipkin';

interface ZipkinSpan {
  readonly traceId: string;
  readonly id: string;
  readonly parentId?: string;
  readonly name?: string;
  readonly kind?: string;
  readonly localEndpoint?: { readonly serviceName?: string };
  readonly tags?: Readonly<Record<string, string>>;
}

describe('one trace per request, across HTTP and Kafka', () => {
  let zipkin: PrivateZipkin;
  let platform: E2ePlatform;

  beforeAll(async () => {
    zipkin = new PrivateZipkin('onetrace', await freeLowPort());
    await zipkin.start();
    platform = await new E2ePlatform({
      billing: true,
      reporting: true,
      serviceEnv: {
        TELEMETRY_EXPORTER: 'zipkin',
        ZIPKIN_URL: `${zipkin.url}/api/v2/spans`,
        // Fresh consumer groups read the topics' whole history first, a burst of spans far
        // beyond the production queue (4,096; spans beyond it are dropped, children first):
        // this test must keep every span of the one request it follows.
        OTEL_BSP_MAX_QUEUE_SIZE: '65536',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '4096',
      },
    }).start();
  }, 240_000);

  afterAll(async () => {
    await platform?.stop();
    await zipkin?.stop();
  });

  async function zipkinJson<T>(path: string): Promise<T> {
    const response = await fetch(`${zipkin.url}${path}`);
    if (!response.ok) throw new Error(`zipkin ${path}: ${response.status}`);
    return (await response.json()) as T;
  }

  it('holds the gateway, identity, its relay and every consuming service under one trace id', async () => {
    const signup = await call(platform.gatewayUrl, 'POST', '/v1/signup', {
      body: {
        tenantName: `Trace ${randomUUID().slice(0, 8)}`,
        email: `trace-${randomUUID()}@example.test`,
        password: 'correct horse battery staple',
        displayName: 'Tracer',
      },
    });
    expect(signup.status).toBe(201);
    const requestId = signup.headers.get('x-request-id');
    expect(requestId).toBeTruthy();

    // The request's spans carry its id (request.id); Zipkin finds the trace by that tag.
    const wanted = ['gateway', 'identity', 'authorization', 'billing', 'reporting'];
    const spans = await waitFor(
      'one trace with every service in Zipkin',
      async () => {
        const traces = await zipkinJson<ZipkinSpan[][]>(
          `/api/v2/traces?annotationQuery=${encodeURIComponent(`request.id=${requestId}`)}` +
            `&lookback=600000&limit=10`,
        );
        if (traces.length !== 1) return undefined;
        const trace = traces[0] as ZipkinSpan[];
        // Children end (and are exported) before their parents: wait for the spans the checks
        // below need, not just for any span of each service.
        const has = (service: string, kind?: string): boolean =>
          trace.some(
            (span) =>
              span.localEndpoint?.serviceName === service &&
              (kind === undefined || span.kind === kind),
          );
        const complete =
          has('gateway', 'SERVER') &&
          has('identity', 'PRODUCER') &&
          has('authorization', 'CONSUMER') &&
          has('billing', 'CONSUMER') &&
          has('reporting', 'CONSUMER');
        return complete ? trace : undefined;
      },
      // Each service's fresh groups read the shared topics' history before the sign-up's events.
      { timeoutMs: 210_000, intervalMs: 1000 },
    );

    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    const of = (service: string): ZipkinSpan[] =>
      spans.filter((s) => s.localEndpoint?.serviceName === service);
    // The gateway's server span is named by its route, not by the bare method, and carries the
    // request id it answered with.
    const gatewayServer = of('gateway').find(
      (s) => s.kind === 'SERVER' && /\/v1\/signup/.test(s.name ?? ''),
    );
    expect(gatewayServer?.tags?.['request.id']).toBe(requestId);
    // Every consumer span names the request that caused its event.
    for (const span of spans.filter((s) => s.kind === 'CONSUMER')) {
      expect(span.tags?.['request.id']).toBe(requestId);
    }
    // Identity's relay published the sign-up's events under the request's trace (one
    // `publish <topic>` span per event: tenant, user, membership)...
    const publishes = spans.filter(
      (s) => s.localEndpoint?.serviceName === 'identity' && s.kind === 'PRODUCER',
    );
    expect(publishes.length).toBeGreaterThan(0);
    expect(publishes.every((s) => s.name === 'publish identity.events')).toBe(true);
    // ...and each consumer's span descends from one of those publish spans.
    const byId = new Map(spans.map((s) => [s.id, s]));
    const descendsFromPublish = (span: ZipkinSpan): boolean => {
      for (
        let at: ZipkinSpan | undefined = span;
        at;
        at = at.parentId ? byId.get(at.parentId) : undefined
      ) {
        if (publishes.some((p) => p.id === at?.id)) return true;
      }
      return false;
    };
    for (const service of ['authorization', 'billing', 'reporting']) {
      const consumer = of(service).filter((s) => s.kind === 'CONSUMER');
      expect(consumer.length).toBeGreaterThan(0);
      expect(consumer.every(descendsFromPublish)).toBe(true);
    }
    // Every span of a tenant-scoped hop carries the tenant.
    const tenantIds = new Set(spans.map((s) => s.tags?.['tenant.id']).filter(Boolean));
    expect(tenantIds.size).toBe(1);

    // No trace starts anywhere but at a request or an event: the probes every start polled
    // (/readyz), scrapes, idle consumer polls and timers' queries left no trace of their own.
    for (const service of wanted) {
      const traces = await zipkinJson<ZipkinSpan[][]>(
        `/api/v2/traces?serviceName=${service}&lookback=600000&limit=1000`,
      );
      const roots = traces.flatMap((trace) => trace.filter((s) => s.parentId === undefined));
      const strays = roots.filter(
        (root) =>
          /healthz|readyz|metrics/.test(root.name ?? '') ||
          !['SERVER', 'PRODUCER', 'CONSUMER'].includes(root.kind ?? ''),
      );
      expect(strays.map((root) => `${service}: ${root.kind ?? 'INTERNAL'} ${root.name}`)).toEqual(
        [],
      );
    }
  }, 300_000);
});
