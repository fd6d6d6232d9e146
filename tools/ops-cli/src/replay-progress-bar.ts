import { SingleBar } from 'cli-progress';
import type { DeadLetterProgress } from '@tenantry/events';

/**
 * A cli-progress bar on stderr for a DLQ read or replay (stdout keeps the result clean). Drawn on
 * a terminal only, unless `always` (then a plain line every two seconds, for logs).
 */
export function replayProgressBar(
  stream: NodeJS.WritableStream,
  options: { enabled: boolean; always?: boolean },
): { report: (progress: DeadLetterProgress) => void; stop: () => void } {
  if (!options.enabled) return { report: () => undefined, stop: () => undefined };
  const bar = new SingleBar({
    stream,
    format: 'dlq {phase} [{bar}] {value}/{total} ({percentage}%) eta {eta_formatted}',
    hideCursor: true,
    clearOnComplete: false,
    noTTYOutput: options.always === true,
    notTTYSchedule: 2_000,
  });
  let phase: DeadLetterProgress['phase'] | undefined;
  return {
    report(progress) {
      if (progress.phase !== phase) {
        if (phase !== undefined) bar.stop();
        phase = progress.phase;
        bar.start(progress.total, progress.done, { phase });
      } else {
        bar.setTotal(progress.total);
        bar.update(progress.done, { phase });
      }
    },
    stop() {
      if (phase !== undefined) bar.stop();
      phase = undefined;
    },
  };
}
