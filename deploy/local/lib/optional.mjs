// Which components the platform can run without, and what a failed start may stop. A tracing
// backend that is full or down must never take the platform down with it.

/** Optional components and what is lost while one is down. */
export const OPTIONAL_COMPONENTS = { zipkin: 'traces will not be collected' };

export const isOptional = (name) => Object.hasOwn(OPTIONAL_COMPONENTS, name);

/**
 * What to stop after components failed during one start: never what was running before this
 * start; when only optional components failed, only those of them this start launched (they are
 * unhealthy; everything else carries on); when a required one failed, what this start launched.
 */
export function stopAfterFailure({ failed, startedNow }) {
  if (failed.length === 0) return [];
  if (failed.every(isOptional)) return startedNow.filter((name) => failed.includes(name));
  return [...startedNow];
}

/** The warning for an optional component that did not come up. */
export function optionalWarning(name, logPath, reason) {
  const detail = String(reason ?? '')
    .split('\n')
    .find((line) => line.trim());
  return (
    `${name} did not answer: ${OPTIONAL_COMPONENTS[name]}; see ${logPath}` +
    (detail ? `\n           (${detail.trim()})` : '')
  );
}
