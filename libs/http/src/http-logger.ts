/**
 * The little this lib needs from a logger. Kept here rather than importing the observability lib,
 * so any structured logger (winston, pino, a test spy) fits.
 */
export interface HttpLogger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
}
