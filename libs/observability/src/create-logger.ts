import { isSpanContextValid, trace } from '@opentelemetry/api';
import { currentTenantContext } from '@tenantry/tenancy';
import {
  config,
  createLogger as createWinstonLogger,
  format,
  transports,
  type Logger,
  type transport as Transport,
} from 'winston';
import { redactField } from './redact-secrets';
import { serializeError } from './serialize-error';

export interface CreateLoggerOptions {
  /** Overrides env `LOG_LEVEL` (default `info`; `silent` mutes the logger). */
  readonly level?: string;
  /** Where lines go instead of stdout, e.g. `createLogCapture().transport` in tests. */
  readonly transports?: readonly Transport[];
}

/**
 * A winston logger writing one JSON object per line to stdout. Every line carries the service,
 * the active span's trace/span ids and the current tenant context, so a log line can be joined
 * to its trace in Zipkin and filtered by tenant without each call site passing them. Secrets
 * (passwords, tokens, API keys, credentials in URLs) are redacted from every field and message.
 */
export function createLogger(service: string, options: CreateLoggerOptions = {}): Logger {
  const level = options.level ?? process.env['LOG_LEVEL']?.trim() ?? 'info';
  const silent = level === 'silent';
  // winston drops every line at an unknown level, which would look like a quiet service.
  if (!silent && !(level in config.npm.levels)) {
    throw new Error(`createLogger: unknown log level "${level}" (LOG_LEVEL or options.level)`);
  }
  return createWinstonLogger({
    level: silent ? 'info' : level,
    silent,
    format: format.combine(
      format.errors({ stack: true }),
      contextFormat(service)(),
      format.timestamp(),
      // winston's json uses safe-stable-stringify, so circular metadata prints as "[Circular]".
      format.json(),
    ),
    transports: options.transports ? [...options.transports] : [new transports.Console()],
  });
}

function contextFormat(service: string) {
  return format((info) => {
    info['service'] = service;
    const span = trace.getActiveSpan()?.spanContext();
    if (span && isSpanContextValid(span)) {
      info['trace_id'] = span.traceId;
      info['span_id'] = span.spanId;
    }
    const tenant = currentTenantContext();
    if (tenant) {
      info['tenant_id'] = tenant.tenantId;
      info['actor_type'] = tenant.actor.type;
      info['actor_id'] = tenant.actor.id;
      info['request_id'] = tenant.requestId;
    }
    // Error's own fields are non-enumerable, so JSON would print `{}` without this.
    if (info['err'] instanceof Error) info['err'] = serializeError(info['err']);
    // Last, over everything a line carries: no password, token or key reaches the output.
    for (const key of Object.keys(info)) {
      if (key !== 'level' && key !== 'service') info[key] = redactField(key, info[key]);
    }
    return info;
  });
}
