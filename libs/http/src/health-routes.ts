import { Router } from 'express';
import type { HttpLogger } from './http-logger';
import { HttpProblem } from './problem-details';
import { sendProblem } from './send-problem';

/** Resolves when the dependency is usable, throws when not. Should stop work when `signal` aborts. */
export type ReadinessCheck = (signal: AbortSignal) => Promise<unknown>;

export interface HealthRoutesOptions {
  /** Echoed by both probes, so a misrouted probe is obvious. */
  readonly serviceName?: string;
  /** Named checks for `/readyz`, e.g. `{ database, kafka }`; all run concurrently. */
  readonly checks?: Readonly<Record<string, ReadinessCheck>>;
  /** Per check; a check that takes longer counts as failed. Default 2000 ms. */
  readonly timeoutMs?: number;
  readonly logger?: HttpLogger;
}

export interface CheckResult {
  readonly status: 'ok' | 'fail';
  readonly durationMs: number;
  /** `timeout` or `error`; the error itself goes to the log, not to whoever polls the probe. */
  readonly failure?: 'timeout' | 'error';
}

class CheckTimeoutError extends Error {}

async function runCheck(
  name: string,
  check: ReadinessCheck,
  timeoutMs: number,
  logger: HttpLogger | undefined,
): Promise<CheckResult> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      // Reject before aborting: a check that settles on abort must not win the race.
      reject(new CheckTimeoutError());
      controller.abort();
    }, timeoutMs);
  });
  try {
    await Promise.race([check(controller.signal), timeout]);
    return { status: 'ok', durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    const failure = error instanceof CheckTimeoutError ? 'timeout' : 'error';
    logger?.warn('readiness check failed', {
      check: name,
      failure,
      error: error instanceof Error ? error.message : String(error),
    });
    return { status: 'fail', durationMs: Math.round(performance.now() - started), failure };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/healthz`: liveness, 200 whenever the process can answer (restarting will not fix a slow
 * database). `/readyz`: readiness, 200 only when every check passes, else 503 with the failures.
 */
export function healthRoutes({
  serviceName,
  checks = {},
  timeoutMs = 2000,
  logger,
}: HealthRoutesOptions = {}): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.json({ status: 'ok', service: serviceName });
  });

  router.get('/readyz', async (req, res) => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => [
        name,
        await runCheck(name, check, timeoutMs, logger),
      ]),
    );
    const results = Object.fromEntries(entries);
    const failing = entries.filter(([, result]) => result.status === 'fail').map(([name]) => name);
    if (failing.length === 0) {
      res.setHeader('cache-control', 'no-store');
      res.json({ status: 'ok', service: serviceName, checks: results });
      return;
    }
    sendProblem(
      req,
      res,
      new HttpProblem({
        status: 503,
        title: 'Service not ready',
        slug: 'not-ready',
        detail: `Failing checks: ${failing.join(', ')}.`,
        extensions: { service: serviceName, failing, checks: results },
      }),
    );
  });

  return router;
}
