/**
 * The guard rails of every policy change, as pure functions: nobody grants (or takes away) a
 * permission they do not hold themselves.
 */
export function missingPermissions(held: ReadonlySet<string>, wanted: Iterable<string>): string[] {
  const missing = new Set<string>();
  for (const permission of wanted) if (!held.has(permission)) missing.add(permission);
  return [...missing].sort();
}

/** A custom role's name: lowercase, short, never one of the built-in names (checked apart). */
export const ROLE_NAME_PATTERN = /^[a-z][a-z0-9-]{1,48}[a-z0-9]$/;

/** The last (user) owner of a tenant may not lose the role: the tenant would be unmanageable. */
export function removesLastOwner(
  role: string,
  subjectType: string,
  remainingUserOwners: number,
): boolean {
  return role === 'owner' && subjectType === 'user' && remainingUserOwners < 1;
}
