import type { DeadLetterProgress } from '../dlq/dead-letter-replayer';

/**
 * Progress on stderr (stdout carries the JSON result): one carriage-return line redrawn in
 * place on a terminal; in a log or pipe, a plain line at most every `intervalMs` plus the last.
 */
export function dlqProgressReporter(
  stream: NodeJS.WriteStream = process.stderr,
  intervalMs = 2_000,
): { report: (progress: DeadLetterProgress) => void; end: () => void } {
  const tty = stream.isTTY === true;
  let lastLine = '';
  let lastAt = 0;
  let drawn = false;
  return {
    report({ phase, done, total }) {
      const line = `dlq: ${phase} ${done}/${total}`;
      if (line === lastLine) return;
      lastLine = line;
      const finished = done >= total;
      if (tty) {
        stream.write(`\r${line}\x1b[K`);
        drawn = true;
      } else if (finished || Date.now() - lastAt >= intervalMs) {
        lastAt = Date.now();
        stream.write(`${line}\n`);
      }
    },
    end() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
