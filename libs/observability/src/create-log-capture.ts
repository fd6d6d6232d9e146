import { Writable } from 'node:stream';
import { transports, type transport as Transport } from 'winston';

export type LogLine = Readonly<Record<string, unknown>>;

export interface LogCapture {
  /** Pass to `createLogger(service, { transports: [capture.transport] })`. */
  readonly transport: Transport;
  /** Every line written so far, parsed from the exact JSON the logger would print. */
  readonly lines: readonly LogLine[];
  clear(): void;
}

/**
 * Captures a logger's output for assertions. It sits behind the real formatting (it receives the
 * finished JSON line, not winston's info object), so tests see what production prints.
 */
export function createLogCapture(): LogCapture {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      }
      callback();
    },
  });
  return {
    transport: new transports.Stream({ stream, eol: '\n' }),
    lines,
    clear: () => {
      lines.length = 0;
    },
  };
}
