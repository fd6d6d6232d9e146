const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Quotes a table, column or role name after checking it is a plain lower-case identifier. */
export function sqlIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`unsafe SQL identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}
