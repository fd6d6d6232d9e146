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
      serviceEnv: { TELEMETRY_EXPORTER: 'zipkin', ZIPKIN_URL: `${zipkin.url}/api/v2/spans` },
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
    const wanted = ['gateway', 'identity', 'authorization', 'billing'];
    const spans = await waitFor(
      'one trace with every service in Zipkin',
      async () => {
        const traces = await zipkinJson<ZipkinSpan[][]>(
          `/api/v2/traces?annotationQuery=${encodeURIComponent(`request.id=${requestId}`)}` +
            `&lookback=600000&limit=10`,
        );
        if (traces.length !== 1) return undefined;
        const trace = traces[0] as ZipkinSpan[];
        const services = new Set(trace.map((s) => s.localEndpoint?.serviceName));
        return wanted.every((name) => services.has(name)) ? trace : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
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
    // Identity's relay published the tenant's first event under the request's trace...
    const publish = spans.find(
      (s) => s.localEndpoint?.serviceName === 'identity' && s.kind === 'PRODUCER',
    );
    expect(publish).toBeDefined();
    // ...and each consumer's span descends from that publish span.
    const byId = new Map(spans.map((s) => [s.id, s]));
    const descendsFrom = (span: ZipkinSpan, ancestor: ZipkinSpan): boolean => {
      for (
        let at: ZipkinSpan | undefined = span;
        at;
        at = at.parentId ? byId.get(at.parentId) : undefined
      ) {
        if (at.id === ancestor.id) return true;
      }
      return false;
    };
    for (const service of ['authorization', 'billing']) {
      const consumer = of(service).filter((s) => s.kind === 'CONSUMER');
      expect(consumer.length).toBeGreaterThan(0);
      expect(consumer.some((s) => descendsFrom(s, publish as ZipkinSpan))).toBe(true);
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
  }, 180_000);
});
