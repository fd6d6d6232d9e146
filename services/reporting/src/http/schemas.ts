import { z } from 'zod';
import type { CursorKey } from '../domain/page-cursor';
import { decodeCursor } from '../domain/page-cursor';

export const problemResponses = {
  400: { description: 'Invalid parameters (problem+json, with the offending fields)' },
  401: { description: 'No valid signed context' },
  403: { description: 'Not permitted' },
} as const;

/** An ISO 8601 instant with a zone (`2026-03-01T00:00:00Z`). */
export const instant = z.iso.datetime({ offset: true });

export const limitSchema = z.coerce.number().int().min(1).max(200).default(50);

/** An opaque cursor that must decode to a key of `length` parts (else a 400). */
export function cursorSchema(length: number) {
  return z
    .string()
    .max(400)
    .optional()
    .transform((cursor, ctx): CursorKey | undefined => {
      if (cursor === undefined) return undefined;
      const key = decodeCursor(cursor, length);
      if (!key) {
        ctx.addIssue({ code: 'custom', message: 'Not a cursor this report gave out.' });
        return z.NEVER;
      }
      return key;
    });
}

/** A (time, event id) cursor key as the repositories take it, or undefined when malformed. */
export function timeAndId(key: CursorKey | undefined): { at: Date; eventId: string } | undefined {
  if (!key) return undefined;
  const [at, eventId] = key;
  if (typeof at !== 'string' || typeof eventId !== 'string') return undefined;
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? undefined : { at: date, eventId };
}

export const asOfSchema = z
  .string()
  .nullable()
  .describe('The newest event applied to this report (ISO instant), null when none yet.');

export const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
