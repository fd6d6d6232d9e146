const ISO_DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/**
 * A grace period as whole seconds (`0`, `3600`) or an ISO 8601 duration of days and time
 * (`P7D`, `PT12H`, `P1DT30M`); months and years are refused (their length varies). Returns
 * milliseconds, or undefined for anything else.
 */
export function parseGracePeriodMs(value: string): number | undefined {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const match = ISO_DURATION.exec(text.toUpperCase());
  if (!match || text.length < 2 || text.toUpperCase().endsWith('T')) return undefined;
  const [days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0)) as [
    number,
    number,
    number,
    number,
  ];
  return (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000;
}
