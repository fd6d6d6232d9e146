/**
 * What one gateway hop costs. A trivial upstream route (identity's `/v1/me`, permission
 * `authenticated`) called three ways in the same run, each on 127.0.0.1:
 *
 *   direct   the upstream itself;
 *   proxy    a minimal Node reverse proxy in its own process (node:http, keep-alive Agent, no
 *            auth): the baseline of the ratio;
 *   gateway  the real gateway in its own process (JWT verification, auth-failure and tenant rate
 *            limits in Redis, tenant status, context token signing, proxy, usage recording).
 *
 * Saturated requests/s of each (gateway / proxy aim >= 0.5), then each at half of the gateway's
 * saturated rate (autocannon `overallRate`): the p99 the gateway adds over the direct call (aim
 * <= 5 ms). Fairness: tenant A saturates the gateway while tenant B calls at a modest rate (two
 * autocannon clients in one run); B's p99 over the direct p99 at B's rate (aim <= 5 ms), with A
 * unlimited and with A under the production default limit (50/s, burst 100).
 *
 *   npx tsx bench/gateway-hop.bench.ts        (or BENCH_ONLY=gateway npm run bench)
 *   BENCH_CPU_PROFILE=<dir> ...               (V8 CPU profile of the gateway process)
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
  paced,
  startChild,
  withCpuPerRequest,
} from './support/gateway-bed';
import type { BenchStack } from './support/stack';
import { acquireStack } from './support/stack';

export interface GatewayHopOptions extends LoadSettings {
  readonly warmupS: number;
  /** Tenant B's rate in the fairness cases; default a tenth of the gateway's saturated rate. */
  readonly fairnessRate?: number;
  readonly cpuProfile?: string;
}

export function gatewayHopOptionsFromEnv(): GatewayHopOptions {
  const fairnessRate = process.env.BENCH_FAIRNESS_RATE;
  return {
    durationS: sizeFromEnv('BENCH_DURATION_S', 5, 15),
    warmupS: intFromEnv('BENCH_WARMUP_S', 2),
    connections: intFromEnv('BENCH_CONNECTIONS', 50),
    workers: intFromEnv('BENCH_WORKERS', 2),
    ...(fairnessRate ? { fairnessRate: intFromEnv('BENCH_FAIRNESS_RATE', 1) } : {}),
    ...(process.env.BENCH_CPU_PROFILE ? { cpuProfile: process.env.BENCH_CPU_PROFILE } : {}),
  };
}

export interface FairnessCase {
  readonly name: string;
  readonly a: LoadResult;
  readonly b: LoadResult;
  /** B's p99 minus the direct p99 at B's rate. */
  readonly bAddedP99Ms: number;
}

export interface GatewayHopResult {
  readonly options: GatewayHopOptions & { full: boolean };
  readonly saturated: {
    direct: LoadResult;
    proxy: LoadResult & { cpuMicrosPerRequest: number };
    gateway: LoadResult & { cpuMicrosPerRequest: number };
  };
  readonly gatewayPerProxy: number;
  /** Proxy CPU µs per request ÷ gateway CPU µs per request (saturated runs): the same ratio as
   * req/s if each had a core of its own, far less moved by a busy machine. */
  readonly gatewayPerProxyCpu: number;
  readonly gatewayPerDirect: number;
  readonly halfRate: number;
  readonly half: { direct: LoadResult; proxy: LoadResult; gateway: LoadResult };
  /** Gateway p99 minus direct p99, both at half the gateway's saturated rate. */
  readonly addedP99Ms: number;
  readonly proxyAddedP99Ms: number;
  readonly fairnessRate: number;
  readonly fairnessDirect: LoadResult;
  readonly fairnessAlone: LoadResult;
  readonly fairness: FairnessCase[];
}

/** The production default of RATE_LIMIT_RPS / RATE_LIMIT_BURST (services/gateway/src/config.ts). */
const DEFAULT_LIMIT = { ratePerSecond: 50, burst: 100 };

export async function runGatewayHopBench(
  stack: BenchStack,
  options: GatewayHopOptions = gatewayHopOptionsFromEnv(),
): Promise<GatewayHopResult> {
  const bed = await openGatewayBed(stack, 'gateway_hop');
  try {
    const tenantA = benchTenant('a');
    const tenantLimited = benchTenant('limited');
    const tenantB = benchTenant('b');
    const gateway = await startChild(
      'gateway',
      {
        ...bed.gatewayEnv,
        RATE_LIMIT_TENANT_OVERRIDES: JSON.stringify({ [tenantLimited]: DEFAULT_LIMIT }),
      },
      options.cpuProfile,
    );
    bed.cleanup.add('gateway', () => gateway.stop());
    const proxy = await startChild('proxy', bed.gatewayEnv);
    bed.cleanup.add('proxy', () => proxy.stop());
    const authA = await bed.tokenFor(tenantA);
    const authLimited = await bed.tokenFor(tenantLimited);
    const authB = await bed.tokenFor(tenantB);
    const urls = {
      direct: `${bed.upstreamUrl}${ROUTE}`,
      proxy: `${proxy.url}${ROUTE}`,
      gateway: `${gateway.url}${ROUTE}`,
    };

    console.error(
      `[bench] gateway hop: ${options.connections} connections, ${options.durationS} s per run, ` +
        `${options.workers} autocannon workers`,
    );
    const warm = { ...options, durationS: options.warmupS };
    await load(urls.direct, {}, warm);
    await load(urls.proxy, {}, warm);
    await load(urls.gateway, authA, warm);

    const saturated = {
      direct: await load(urls.direct, {}, options),
      proxy: await withCpuPerRequest(proxy, () => load(urls.proxy, {}, options)),
      gateway: await withCpuPerRequest(gateway, () => load(urls.gateway, authA, options)),
    };
    const halfRate = Math.max(1, Math.floor(saturated.gateway.rps / 2));
    const half = {
      direct: await paced(urls.direct, {}, halfRate, options.durationS),
      proxy: await paced(urls.proxy, {}, halfRate, options.durationS),
      gateway: await paced(urls.gateway, authA, halfRate, options.durationS),
    };

    const fairnessRate =
      options.fairnessRate ?? Math.max(20, Math.floor(saturated.gateway.rps / 10));
    const paceB = (url: string, headers: Record<string, string>): Promise<LoadResult> =>
      paced(url, headers, fairnessRate, options.durationS);
    const fairnessDirect = await paceB(urls.direct, {});
    const fairnessAlone = await paceB(urls.gateway, authB);
    const fairness: FairnessCase[] = [];
    for (const [name, authOfA] of [
      ['A unlimited', authA],
      [`A at the default limit (${DEFAULT_LIMIT.ratePerSecond}/s)`, authLimited],
    ] as const) {
      const [a, b] = await Promise.all([
        load(urls.gateway, authOfA, options),
        paceB(urls.gateway, authB),
      ]);
      fairness.push({ name, a, b, bAddedP99Ms: round1(b.p99 - fairnessDirect.p99) });
    }

    // Refusals or failed connections mean the gateway broke; slow answers are the measurement.
    const broken = [saturated.gateway, half.gateway, fairnessAlone, ...fairness.map((f) => f.b)];
    if (broken.some((r) => r.non2xx > 0 || r.errors > 0)) {
      throw new Error(
        `gateway answered non-2xx or failed: ${JSON.stringify(broken.map((r) => [r.non2xx, r.errors]))}`,
      );
    }
    return {
      options: { ...options, full: benchFull() },
      saturated,
      gatewayPerProxy: saturated.gateway.rps / saturated.proxy.rps,
      gatewayPerProxyCpu:
        saturated.proxy.cpuMicrosPerRequest / saturated.gateway.cpuMicrosPerRequest,
      gatewayPerDirect: saturated.gateway.rps / saturated.direct.rps,
      halfRate,
      half,
      addedP99Ms: round1(half.gateway.p99 - half.direct.p99),
      proxyAddedP99Ms: round1(half.proxy.p99 - half.direct.p99),
      fairnessRate,
      fairnessDirect,
      fairnessAlone,
      fairness,
    };
  } finally {
    await bed.cleanup.run();
  }
}

const round1 = (ms: number): number => Math.round(ms * 10) / 10;

const row = (name: string, r: LoadResult): string[] => [
  name,
  fmtRate(r.rps),
  String(r.p50),
  String(r.p99),
  String(r.max),
  `${r.non2xx}/${r.errors}${r.skipped ? `, ${r.skipped} not sent (1024 in flight)` : ''}`,
];

export function gatewayHopTable(r: GatewayHopResult): string {
  const rows = [
    row('direct (saturated)', r.saturated.direct),
    row('minimal proxy (saturated)', r.saturated.proxy),
    row('gateway (saturated)', r.saturated.gateway),
    row(`direct @ ${r.halfRate}/s`, r.half.direct),
    row(`minimal proxy @ ${r.halfRate}/s`, r.half.proxy),
    row(`gateway @ ${r.halfRate}/s`, r.half.gateway),
    row(`B direct @ ${r.fairnessRate}/s`, r.fairnessDirect),
    row(`B via gateway @ ${r.fairnessRate}/s, alone`, r.fairnessAlone),
  ];
  for (const f of r.fairness) {
    rows.push(
      row(`  A saturating: ${f.name}`, f.a),
      row(`  B @ ${r.fairnessRate}/s meanwhile`, f.b),
    );
  }
  return [
    table(['gateway hop', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'non2xx/err'], rows),
    `gateway / proxy ${r.gatewayPerProxy.toFixed(2)}, gateway / direct ${r.gatewayPerDirect.toFixed(2)}; ` +
      `CPU per request: gateway ${Math.round(r.saturated.gateway.cpuMicrosPerRequest)} µs, ` +
      `proxy ${Math.round(r.saturated.proxy.cpuMicrosPerRequest)} µs ` +
      `(proxy / gateway ${r.gatewayPerProxyCpu.toFixed(2)}); ` +
      `p99 added at ${r.halfRate}/s: gateway +${r.addedP99Ms} ms, proxy +${r.proxyAddedP99Ms} ms`,
  ].join('\n');
}

async function main(): Promise<void> {
  const stack = await acquireStack();
  try {
    console.log(gatewayHopTable(await runGatewayHopBench(stack)));
  } finally {
    await stack.release();
  }
}

runWhenMain(module, main);
