import http from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode, context, propagation } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import { edgeServerSpans } from './edge-server-spans';
import { nameServerSpanByRoute, tagServerSpan } from './server-span-route';
import { startTelemetry, type TelemetryHandle } from './start-telemetry';

const CLIENT_TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** What the app under test injects into an upstream call: the context its handler runs in. */
function injected(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

function appWithEdgeSpans(): express.Express {
  const app = express();
  app.use(edgeServerSpans());
  app.use(express.json());
  app.get('/healthz', (_req, res) => {
    res.json(injected());
  });
  app.all('/things/:id', (req, res) => {
    nameServerSpanByRoute('/things/:id');
    tagServerSpan({ 'request.id': 'req-1' });
    res.status(req.params.id === 'broken' ? 500 : 200).json(injected());
  });
  return app;
}

describe('edgeServerSpans', () => {
  let telemetry: TelemetryHandle | undefined;
  let server: Server | undefined;
  let baseUrl = '';
  // One per test: shutting telemetry down shuts its exporter down for good.
  let exporter = new InMemorySpanExporter();

  async function start(): Promise<void> {
    exporter = new InMemorySpanExporter();
    telemetry = startTelemetry({ serviceName: 'edge', spanExporter: exporter, httpSpans: 'edge' });
    const listening = appWithEdgeSpans().listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => listening.once('listening', () => resolve()));
    server = listening;
    baseUrl = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  }

  async function call(
    path: string,
    init: RequestInit = {},
  ): Promise<{ status: number; carrier: Record<string, string> }> {
    const response = await fetch(`${baseUrl}${path}`, init);
    return { status: response.status, carrier: (await response.json()) as Record<string, string> };
  }

  /** The spans ended so far, once the server has seen the response close (just after the client has it). */
  const finished = async (
    expected = 1,
  ): Promise<ReturnType<InMemorySpanExporter['getFinishedSpans']>> => {
    for (
      let waited = 0;
      waited < 1000 && exporter.getFinishedSpans().length < expected;
      waited += 10
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await telemetry?.forceFlush();
    return exporter.getFinishedSpans();
  };

  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
    await telemetry?.shutdown();
    telemetry = undefined;
    delete process.env.OTEL_TRACES_SAMPLER;
    delete process.env.OTEL_TRACES_SAMPLER_ARG;
  });

  it('makes one root SERVER span per request, named by its route, whose context the handler injects', async () => {
    await start();
    const { status, carrier } = await call('/things/7?secret=x', {
      headers: { traceparent: CLIENT_TRACEPARENT, 'user-agent': 'spec' },
    });
    expect(status).toBe(200);

    const spans = await finished();
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(span?.name).toBe('GET /things/:id');
    // A root: the client's trace is not continued.
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.spanContext().traceId).not.toBe(CLIENT_TRACEPARENT.split('-')[1]);
    expect(span?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/things/7',
      'http.route': '/things/:id',
      'http.response.status_code': 200,
      'user_agent.original': 'spec',
      'request.id': 'req-1',
    });
    expect(carrier.traceparent).toBe(
      `00-${span?.spanContext().traceId}-${span?.spanContext().spanId}-01`,
    );
  });

  it('keeps the span active past the body parser (a body arriving later comes through events)', async () => {
    await start();
    // Sent after the headers: the parser reads it from the socket's events, outside the span's
    // context, and must still call on in it.
    const carrier = await new Promise<Record<string, string>>((resolve, reject) => {
      const body = JSON.stringify({ name: 'late' });
      const request = http.request(`${baseUrl}/things/8`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      });
      request.on('error', reject);
      request.on('response', (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve(JSON.parse(text) as Record<string, string>));
      });
      request.flushHeaders();
      setTimeout(() => request.end(body), 100);
    });
    const [span] = await finished();
    expect(span?.name).toBe('POST /things/:id');
    expect(carrier.traceparent).toBe(
      `00-${span?.spanContext().traceId}-${span?.spanContext().spanId}-01`,
    );
  });

  it('marks a 5xx answer as an error', async () => {
    await start();
    expect((await call('/things/broken')).status).toBe(500);
    const [span] = await finished();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['http.response.status_code']).toBe(500);
  });

  it('makes no span for probes', async () => {
    await start();
    const { carrier } = await call('/healthz');
    expect(await finished(0)).toHaveLength(0);
    expect(carrier.traceparent).toBeUndefined();
  });

  it('records nothing for an unsampled request, and passes the decision on', async () => {
    process.env.OTEL_TRACES_SAMPLER = 'parentbased_traceidratio';
    process.env.OTEL_TRACES_SAMPLER_ARG = '0';
    await start();
    const { carrier } = await call('/things/9', { headers: { traceparent: CLIENT_TRACEPARENT } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await finished(0)).toHaveLength(0);
    // The services' parent-based samplers follow it: not sampled, under the gateway's trace id.
    expect(carrier.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(carrier.traceparent?.split('-')[1]).not.toBe(CLIENT_TRACEPARENT.split('-')[1]);
  });
});
