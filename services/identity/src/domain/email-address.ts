import { z } from 'zod';

/** Emails are compared case-insensitively: stored trimmed and lowercased. */
export const emailSchema = z.string().trim().toLowerCase().pipe(z.email().max(254));

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
