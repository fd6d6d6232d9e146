/** Where a command writes: results to `out` (stdout), progress and messages to `err` (stderr). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** The stream a progress bar draws on (stderr), with whether it is a terminal. */
  readonly progressStream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Asks a yes/no question on the terminal; false when nobody can answer. */
  confirm(question: string): Promise<boolean>;
}

export type Cell = string | number | boolean | null | undefined;

/** A plain text table: a header row and left-aligned columns, two spaces apart. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
): string {
  const text = [
    headers,
    ...rows.map((row) => row.map((cell) => (cell == null ? '-' : String(cell)))),
  ];
  const widths = headers.map((_, column) =>
    Math.max(...text.map((row) => (row[column] ?? '').length)),
  );
  return text
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `key: value` lines, keys aligned. */
export function formatFields(fields: Readonly<Record<string, Cell>>): string {
  const width = Math.max(...Object.keys(fields).map((key) => key.length));
  return Object.entries(fields)
    .map(([key, value]) => `${`${key}:`.padEnd(width + 1)} ${value == null ? '-' : String(value)}`)
    .join('\n');
}

/** JSON for scripts (`--json`), text for people. */
export function printResult(io: Io, json: boolean, value: unknown, text: () => string): void {
  io.out(json ? JSON.stringify(value, null, 2) : text());
}
