/** The fields of a Zipkin v2 span this tool reads. */
export interface ZipkinSpan {
  readonly traceId: string;
  readonly id: string;
  readonly parentId?: string;
  readonly name?: string;
  readonly kind?: string;
  /** Microseconds since the epoch. */
  readonly timestamp?: number;
  /** Microseconds. */
  readonly duration?: number;
  readonly localEndpoint?: { readonly serviceName?: string };
  readonly tags?: Readonly<Record<string, string>>;
}

export interface TraceSummary {
  readonly traceId: string;
  readonly services: string[];
  readonly spanCount: number;
  readonly durationMs: number;
  readonly startedAt: string | undefined;
  readonly uiUrl: string;
  /** One line per span, indented by depth, children in start order. */
  readonly tree: string[];
}

const ms = (micros: number | undefined) => Math.round((micros ?? 0) / 100) / 10;

export function summarizeTrace(spans: readonly ZipkinSpan[], zipkinUrl: string): TraceSummary {
  const traceId = spans[0]?.traceId ?? '';
  const ids = new Set(spans.map((s) => s.id));
  const children = new Map<string | undefined, ZipkinSpan[]>();
  for (const span of spans) {
    // A span whose parent is not in the trace (not exported, or still in flight) is a root here.
    const parent = span.parentId && ids.has(span.parentId) ? span.parentId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  for (const list of children.values())
    list.sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0));
  const tree: string[] = [];
  const seen = new Set<string>();
  const walk = (parent: string | undefined, depth: number) => {
    for (const span of children.get(parent) ?? []) {
      if (seen.has(span.id)) continue; // Zipkin merges client/server halves under one id
      seen.add(span.id);
      const service = span.localEndpoint?.serviceName ?? '?';
      const tenant = span.tags?.['tenant.id'];
      tree.push(
        `${'  '.repeat(depth)}${service}: ${span.name ?? '?'}${span.kind ? ` [${span.kind.toLowerCase()}]` : ''} ` +
          `${ms(span.duration)} ms${tenant ? ` tenant=${tenant}` : ''}`,
      );
      walk(span.id, depth + 1);
    }
  };
  walk(undefined, 0);
  const starts = spans.map((s) => s.timestamp ?? 0).filter((t) => t > 0);
  const ends = spans.map((s) => (s.timestamp ?? 0) + (s.duration ?? 0)).filter((t) => t > 0);
  const start = starts.length ? Math.min(...starts) : undefined;
  return {
    traceId,
    services: [
      ...new Set(spans.map((s) => s.localEndpoint?.serviceName).filter((s): s is string => !!s)),
    ].sort(),
    spanCount: spans.length,
    durationMs: start === undefined ? 0 : ms(Math.max(...ends) - start),
    startedAt: start === undefined ? undefined : new Date(start / 1000).toISOString(),
    uiUrl: `${zipkinUrl}/zipkin/traces/${traceId}`,
    tree,
  };
}
