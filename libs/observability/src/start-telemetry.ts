import {
  context,
  diag,
  DiagConsoleLogger,
  DiagLogLevel,
  propagation,
  ProxyTracerProvider,
  trace,
} from '@opentelemetry/api';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { BestEffortSpanExporter } from './best-effort-span-exporter';
import {
  batchProcessorConfig,
  spanExportLimits,
  type SpanExportLimits,
} from './span-export-limits';
import { TenantSpanProcessor } from './tenant-span-processor';

export type TelemetryExporter = 'zipkin' | 'otlp' | 'console' | 'none' | 'memory';

const TELEMETRY_EXPORTERS: readonly TelemetryExporter[] = [
  'zipkin',
  'otlp',
  'console',
  'none',
  'memory',
];

export const DEFAULT_ZIPKIN_URL = 'http://127.0.0.1:9411/api/v2/spans';

export interface StartTelemetryOptions {
  readonly serviceName: string;
  readonly serviceVersion?: string;
  /**
   * Where spans go. Defaults to env `TELEMETRY_EXPORTER`, else `otlp` when
   * `OTEL_EXPORTER_OTLP_ENDPOINT` is set, else `zipkin` (the local stack runs one).
   */
  readonly exporter?: TelemetryExporter;
  /** Full Zipkin spans URL; defaults to env `ZIPKIN_URL`, else {@link DEFAULT_ZIPKIN_URL}. */
  readonly zipkinUrl?: string;
  /**
   * Full OTLP/HTTP traces URL. When absent the exporter reads the standard
   * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `/v1/traces`).
   */
  readonly otlpUrl?: string;
  /**
   * An exporter to use instead of `exporter`, fed by a SimpleSpanProcessor so every span is
   * exported as it ends (tests pass an InMemorySpanExporter and assert synchronously).
   */
  readonly spanExporter?: SpanExporter;
  /**
   * `instrumented` (default): the http and express instrumentations make the server span of each
   * request and a client span per outgoing call. `edge`: neither is installed; the app makes its
   * own server span per request with `edgeServerSpans()` and injects the context into the calls
   * it makes (the gateway: that instrumentation was most of its tracing tax).
   */
  readonly httpSpans?: 'instrumented' | 'edge';
}

export interface TelemetryHandle {
  readonly serviceName: string;
  /** Which exporter was chosen; `custom` when `spanExporter` was passed. */
  readonly exporter: TelemetryExporter | 'custom';
  /** The exporter holding finished spans, when `exporter` is `memory`. */
  readonly memoryExporter: InMemorySpanExporter | undefined;
  /** Exports spans still buffered (call before asserting on a collector, or before exit). */
  forceFlush(): Promise<void>;
  /**
   * Flushes, unpatches the instrumented modules and unregisters the global provider. Never
   * rejects: an unreachable collector is reported as a warning and must not block process exit.
   */
  shutdown(): Promise<void>;
}

// The OTel API holds one global tracer provider per process, so telemetry is a singleton too.
let active: TelemetryHandle | undefined;

/**
 * Starts tracing for this process: a NodeTracerProvider (tenant-stamping processor + exporter),
 * W3C trace-context propagation (the outbox relay writes it into each event's headers, so the
 * consumer's span is a child of the producer's) and the http, express and pg instrumentations.
 *
 * Instrumentations patch modules as they are required, so this must run first thing in
 * `main.ts`, before anything imports express, pg, kafkajs or a lib that does:
 *
 *     import { startTelemetry } from '@tenantry/observability';
 *     const telemetry = startTelemetry({ serviceName: 'billing' });
 *     // only now: const { bootstrap } = require('./bootstrap');
 *
 * A second call for the same service returns the running handle (its options are ignored);
 * a call for a different service throws, since one process cannot report as two services.
 */
export function startTelemetry(options: StartTelemetryOptions): TelemetryHandle {
  if (active) {
    if (active.serviceName === options.serviceName) return active;
    throw new Error(
      `startTelemetry: telemetry already started for service "${active.serviceName}"; ` +
        `cannot start it again for "${options.serviceName}" (shut the first one down first)`,
    );
  }

  // Checked before registering anything, so a refused start leaves the process as it was.
  const registered = trace.getTracerProvider();
  if (registered instanceof ProxyTracerProvider && registered.getDelegateTracer('probe')) {
    throw new Error(
      'startTelemetry: another OpenTelemetry tracer provider is already registered in this ' +
        'process; start telemetry once, through this function only',
    );
  }

  // Without a diag logger OTel is silent, and an unreachable collector would go unnoticed.
  diag.setLogger(new DiagConsoleLogger(), {
    logLevel: DiagLogLevel.WARN,
    suppressOverrideMessage: true,
  });

  const exporterKind = options.spanExporter ? 'custom' : chooseExporter(options);
  const memoryExporter = exporterKind === 'memory' ? new InMemorySpanExporter() : undefined;
  const exportProcessor = createExportProcessor(exporterKind, options, memoryExporter);

  const provider = new NodeTracerProvider({
    // OTEL_RESOURCE_ATTRIBUTES (e.g. pod and namespace, set by the deployment) join every span.
    resource: defaultResource()
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(
        resourceFromAttributes({
          [ATTR_SERVICE_NAME]: options.serviceName,
          ...(options.serviceVersion ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
        }),
      ),
    // The tenant processor runs first so the attributes are there before any export.
    spanProcessors: [new TenantSpanProcessor(), ...(exportProcessor ? [exportProcessor] : [])],
  });
  provider.register();

  const httpInstrumentations = (): (HttpInstrumentation | ExpressInstrumentation)[] => [
    new HttpInstrumentation({
      // Probes and scrapes arrive every few seconds; traced, they bury the real requests.
      ignoreIncomingRequestHook: (request) => isProbePath(request.url),
      // A call made outside any request or event (a document refresh on a timer) is not one.
      requireParentforOutgoingSpans: true,
    }),
    // Route handlers only: a span per middleware layer (helmet, request id, body parser, the
    // context check...) was most of the tracing tax (bench/gateway-tracing.bench.ts) and says
    // nothing an SRE looks for. Ignored layers still name the server span by its route.
    new ExpressInstrumentation({
      ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER],
    }),
  ];
  const instrumentations = [
    // Constructed only when used: an instrumentation patches its module as soon as it exists.
    ...(options.httpSpans === 'edge' ? [] : httpInstrumentations()),
    // Polls (the relay's, the janitors', readiness' SELECT 1) would each be a one-span trace.
    new PgInstrumentation({ requireParentSpan: true }),
    // No kafkajs instrumentation: the outbox relay and the inbox make their own publish and
    // process spans, each joined to the event's trace through its headers (ADR 0003); the
    // instrumentation's own spans were noise, a `poll <topic>` root trace per fetched batch.
  ];
  // Instrumentations enable themselves (hooking `require`) when constructed; pointing them at our
  // provider explicitly avoids depending on the proxy's delegate timing.
  for (const instrumentation of instrumentations) instrumentation.setTracerProvider(provider);

  let shuttingDown: Promise<void> | undefined;
  const handle: TelemetryHandle = {
    serviceName: options.serviceName,
    exporter: exporterKind,
    memoryExporter,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => {
      shuttingDown ??= (async () => {
        for (const instrumentation of instrumentations) instrumentation.disable();
        try {
          await provider.shutdown();
        } catch (error) {
          diag.warn('telemetry shutdown could not export every span', error);
        } finally {
          // Releasing the globals lets tests (and a restarted service) start telemetry again.
          trace.disable();
          context.disable();
          propagation.disable();
          diag.disable();
          if (active === handle) active = undefined;
        }
      })();
      return shuttingDown;
    },
  };
  active = handle;
  return handle;
}

const PROBE_PATHS = ['/healthz', '/readyz', '/metrics'];

/** Liveness, readiness and metrics paths, with or without a query string. */
export function isProbePath(url: string | undefined): boolean {
  if (!url) return false;
  const path = url.split('?', 1)[0];
  return PROBE_PATHS.includes(path ?? '');
}

function chooseExporter(options: StartTelemetryOptions): TelemetryExporter {
  if (options.exporter) return options.exporter;
  const fromEnv = process.env['TELEMETRY_EXPORTER']?.trim().toLowerCase();
  if (fromEnv) {
    if (!isTelemetryExporter(fromEnv)) {
      throw new Error(
        `TELEMETRY_EXPORTER="${fromEnv}" is not one of ${TELEMETRY_EXPORTERS.join(', ')}`,
      );
    }
    return fromEnv;
  }
  return process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] ? 'otlp' : 'zipkin';
}

function isTelemetryExporter(value: string): value is TelemetryExporter {
  return (TELEMETRY_EXPORTERS as readonly string[]).includes(value);
}

function createExportProcessor(
  kind: TelemetryExporter | 'custom',
  options: StartTelemetryOptions,
  memoryExporter: InMemorySpanExporter | undefined,
): SpanProcessor | undefined {
  switch (kind) {
    case 'custom':
      return options.spanExporter ? new SimpleSpanProcessor(options.spanExporter) : undefined;
    case 'memory':
      return memoryExporter ? new SimpleSpanProcessor(memoryExporter) : undefined;
    case 'console':
      return new SimpleSpanProcessor(new ConsoleSpanExporter());
    case 'none':
      return undefined;
    case 'zipkin': {
      const url = options.zipkinUrl ?? process.env['ZIPKIN_URL'] ?? DEFAULT_ZIPKIN_URL;
      // The Zipkin exporter has no timeout of its own: the wrapper gives it one.
      return networkExportProcessor(
        new ZipkinExporter({ serviceName: options.serviceName, url }),
        url,
      );
    }
    case 'otlp': {
      const limits = spanExportLimits();
      const exporter = new OTLPTraceExporter({
        ...(options.otlpUrl ? { url: options.otlpUrl } : {}),
        timeoutMillis: limits.exportTimeoutMillis,
      });
      const target =
        options.otlpUrl ??
        process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ??
        process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] ??
        'the OTLP endpoint';
      return networkExportProcessor(exporter, target, limits);
    }
  }
}

/**
 * Batching keeps the network off the request path (ending a span only appends to a bounded
 * queue; spans beyond it are dropped), and the best-effort wrapper keeps a collector that is down
 * or full from costing more than its spans and one warning a minute.
 */
export function networkExportProcessor(
  exporter: SpanExporter,
  target: string,
  limits: SpanExportLimits = spanExportLimits(),
): BatchSpanProcessor {
  return new BatchSpanProcessor(
    new BestEffortSpanExporter(exporter, {
      target,
      timeoutMillis: limits.exportTimeoutMillis,
      maxHangingExports: limits.maxHangingExports,
    }),
    batchProcessorConfig(limits),
  );
}
