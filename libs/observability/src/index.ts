export {
  startTelemetry,
  DEFAULT_ZIPKIN_URL,
  type StartTelemetryOptions,
  type TelemetryExporter,
  type TelemetryHandle,
} from './start-telemetry';
export { TenantSpanProcessor } from './tenant-span-processor';
export { TENANT_SPAN_ATTRIBUTES } from './tenant-span-attributes';
export * from './server-span-route';
export { edgeServerSpans } from './edge-server-spans';
export { tagActiveSpanWithTenant } from './tag-active-span-with-tenant';
export { createLogger, type CreateLoggerOptions } from './create-logger';
export { serializeError, type SerializedError } from './serialize-error';
export { createLogCapture, type LogCapture, type LogLine } from './create-log-capture';
export {
  createMetrics,
  INBOX_OUTCOMES,
  type InboxOutcome,
  type PlatformMetrics,
} from './metrics-registry';
export { metricsHandler } from './metrics-handler';
export { NO_TENANT, OTHER_TENANTS, TopTenants, type TopTenantsOptions } from './top-tenants';
