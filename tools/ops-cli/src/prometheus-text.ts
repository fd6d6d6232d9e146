/**
 * The value of an unlabelled sample (or the sum over its labelled samples) in Prometheus' text
 * exposition format; undefined when the metric is absent.
 */
export function sampleValue(text: string, metric: string): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line.trim());
    if (!match || match[1] !== metric) continue;
    const value = Number(match[3]);
    if (Number.isNaN(value)) continue;
    total = (total ?? 0) + value;
  }
  return total;
}
