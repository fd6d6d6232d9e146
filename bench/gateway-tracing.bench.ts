/**
 * The tracing tax: the gateway's saturated requests/s with the OpenTelemetry SDK on against the
 * same gateway without it, in the same run (aim >= 0.9).
 *
 *   off       the gateway without the SDK (no provider, no instrumentation);
 *   on, 10 %  startTelemetry as main.ts does (http + express + pg instrumentations, the tenant span
 *             processor, the batching OTLP exporter to a local sink) with the production sampler
 *             `parentbased_traceidratio` at 0.1 (OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG):
 *             a request that arrives with a sampled traceparent stays sampled, the rest 10 %;
 *   on, 100 % the SDK's own default (`parentbased_always_on`): what runs when no sampler is set.
 *
 * Each gateway is its own process; the runs alternate off / 10 % / 100 % (2 rounds, 3 with --full) and
 * the ratio is of the means.
 *
 *   npx tsx bench/gateway-tracing.bench.ts    (or BENCH_ONLY=tracing npm run bench)
 *   BENCH_CPU_PROFILE=<dir> ...               (V8 CPU profile of the 10 %-sampled gateway)
 */
import {
  benchFull,
  fmtRate,
  intFromEnv,
  runWhenMain,
  sizeFromEnv,
  table,
} from './support/bench-kit';
import type { LoadResult, LoadSettings } from './support/gateway-bed';
import {
  ROUTE,
  benchTenant,
  load,
  openGatewayBed,
  startChild,
  withCpuPerRequest,
} from './support/gateway-bed';
import type { BenchStack } from './support/stack';
import { acquireStack } from './support/stack';

/** The sampler the platform runs with in production (bench/README.md, "Tracing tax"). */
export const PRODUCTION_SAMPLER = { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', ratio: 0.1 };

export interface TracingBenchOptions extends LoadSettings {
  readonly warmupS: number;
  readonly rounds: number;
  /** Writes a V8 CPU profile of the 10 %-sampled gateway here. */
  readonly cpuProfile?: string;
}

export function tracingOptionsFromEnv(): TracingBenchOptions {
  return {
    durationS: sizeFromEnv('BENCH_DURATION_S', 5, 15),
    warmupS: intFromEnv('BENCH_WARMUP_S', 2),
    connections: intFromEnv('BENCH_CONNECTIONS', 50),
    workers: intFromEnv('BENCH_WORKERS', 2),
    rounds: sizeFromEnv('BENCH_TRACING_ROUNDS', 2, 3),
    ...(process.env.BENCH_CPU_PROFILE ? { cpuProfile: process.env.BENCH_CPU_PROFILE } : {}),
  };
}

export interface TracingVariant {
  readonly name: string;
  readonly runs: LoadResult[];
  readonly meanRps: number;
  /** The gateway process's CPU time per request over its measured runs (user + system), µs. */
  readonly cpuMicrosPerRequest: number;
  /** Requests the span sink received (OTLP exports), 0 when off. */
  readonly exports: number;
}

export interface TracingBenchResult {
  readonly options: TracingBenchOptions & { full: boolean };
  readonly off: TracingVariant;
  readonly production: TracingVariant;
  readonly always: TracingVariant;
  /** Production sampling / off. */
  readonly ratio: number;
  readonly alwaysRatio: number;
  /**
   * Off CPU µs per request ÷ production sampling's: the same ratio as req/s if the gateway had a
   * core of its own, far less moved by what else the machine runs.
   */
  readonly cpuRatio: number;
}

export async function runGatewayTracingBench(
  stack: BenchStack,
  options: TracingBenchOptions = tracingOptionsFromEnv(),
): Promise<TracingBenchResult> {
  const bed = await openGatewayBed(stack, 'gateway_tracing');
  try {
    const variants = [
      { key: 'off', name: 'off (no SDK)', env: {} },
      {
        key: 'production',
        name: `on, ${PRODUCTION_SAMPLER.ratio * 100} % (${PRODUCTION_SAMPLER.OTEL_TRACES_SAMPLER})`,
        env: {
          BENCH_CHILD_TELEMETRY: 'on',
          OTEL_TRACES_SAMPLER: PRODUCTION_SAMPLER.OTEL_TRACES_SAMPLER,
          OTEL_TRACES_SAMPLER_ARG: String(PRODUCTION_SAMPLER.ratio),
        },
      },
      {
        key: 'always',
        name: 'on, 100 % (parentbased_always_on)',
        env: { BENCH_CHILD_TELEMETRY: 'on', OTEL_TRACES_SAMPLER: 'parentbased_always_on' },
      },
    ];
    const auth = await bed.tokenFor(benchTenant('tracing'));
    const started = [];
    for (const v of variants) {
      const child = await startChild(
        'gateway',
        { ...bed.gatewayEnv, ...v.env, BENCH_CHILD_OTLP_URL: bed.otlpUrl(v.key) },
        v.key === 'production' ? options.cpuProfile : undefined,
      );
      bed.cleanup.add(`gateway ${v.name}`, () => child.stop());
      started.push({
        ...v,
        child,
        url: `${child.url}${ROUTE}`,
        runs: [] as (LoadResult & { cpuMicrosPerRequest: number })[],
      });
    }
    console.error(
      `[bench] tracing tax: ${options.connections} connections, ${options.durationS} s per run, ` +
        `${options.rounds} round(s)`,
    );
    for (const v of started) await load(v.url, auth, { ...options, durationS: options.warmupS });
    for (let round = 0; round < options.rounds; round++) {
      for (const v of started) {
        const result = await withCpuPerRequest(v.child, () => load(v.url, auth, options));
        if (result.non2xx > 0 || result.errors > 0) {
          throw new Error(`${v.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        }
        v.runs.push(result);
      }
    }
    const done = started.map((v): TracingVariant => ({
      name: v.name,
      runs: v.runs,
      meanRps: v.runs.reduce((sum, r) => sum + r.rps, 0) / v.runs.length,
      cpuMicrosPerRequest:
        v.runs.reduce((sum, r) => sum + r.cpuMicrosPerRequest * r.total, 0) /
        v.runs.reduce((sum, r) => sum + r.total, 0),
      // Batched every few seconds: the warm-up's included, the last batch perhaps not yet.
      exports: bed.exportRequests(v.key),
    }));
    const [off, production, always] = done as [TracingVariant, TracingVariant, TracingVariant];
    if (production.exports + always.exports === 0) {
      throw new Error('no spans reached the sink: telemetry was not on');
    }
    return {
      options: { ...options, full: benchFull() },
      off,
      production,
      always,
      ratio: production.meanRps / off.meanRps,
      alwaysRatio: always.meanRps / off.meanRps,
      cpuRatio: off.cpuMicrosPerRequest / production.cpuMicrosPerRequest,
    };
  } finally {
    await bed.cleanup.run();
  }
}

export function tracingTable(r: TracingBenchResult): string {
  const rows = [r.off, r.production, r.always].map((v) => [
    v.name,
    fmtRate(v.meanRps),
    v.runs.map((run) => fmtRate(run.rps)).join(' / '),
    String(v.runs[0]?.p99 ?? ''),
    String(v.exports),
    (v.meanRps / r.off.meanRps).toFixed(2),
    v.cpuMicrosPerRequest.toFixed(0),
    (r.off.cpuMicrosPerRequest / v.cpuMicrosPerRequest).toFixed(2),
  ]);
  return table(
    [
      'gateway tracing',
      'req/s (mean)',
      'runs',
      'p99 ms',
      'exports',
      'vs off',
      'CPU µs/req',
      'vs off (CPU)',
    ],
    rows,
  );
}

async function main(): Promise<void> {
  const stack = await acquireStack();
  try {
    console.log(tracingTable(await runGatewayTracingBench(stack)));
  } finally {
    await stack.release();
  }
}

runWhenMain(module, main);
