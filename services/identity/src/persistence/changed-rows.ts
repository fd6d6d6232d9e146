/**
 * TypeORM's postgres `query()` answers UPDATE and DELETE with `[rows, rowCount]` (and other
 * statements with the rows): the rows an `UPDATE ... RETURNING` changed.
 */
export function changedRows<T>(result: unknown): T[] {
  return (result as [T[], number])[0];
}
