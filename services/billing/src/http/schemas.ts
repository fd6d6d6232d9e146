import { z } from 'zod';

export const invoiceParams = z.strictObject({ invoiceId: z.string().min(1).max(100) });

export const planSchema = z.object({
  code: z.string(),
  version: z.number(),
  name: z.string(),
  currency: z.string(),
  seatPriceMinor: z.number(),
  includedApiCalls: z.number(),
  overagePer1000Minor: z.number(),
  trialDays: z.number(),
});

export const subscriptionSchema = z.object({
  id: z.string(),
  status: z.string(),
  plan: planSchema,
  pendingPlanCode: z.string().nullable(),
  cancelAtPeriodEnd: z.boolean(),
  timeZone: z.string(),
  trialEndsAt: z.string().nullable(),
  currentPeriodStart: z.string(),
  currentPeriodEnd: z.string(),
});

export const lineSchema = z.object({
  kind: z.string(),
  description: z.string(),
  quantity: z.number(),
  unitAmountMinor: z.number(),
  amountMinor: z.number(),
});

export const creditNoteSchema = z.object({
  id: z.string(),
  number: z.string(),
  amountMinor: z.number(),
  currency: z.string(),
  reason: z.string(),
  issuedAt: z.string(),
});

export const invoiceSchema = z.object({
  id: z.string(),
  number: z.string(),
  status: z.string(),
  currency: z.string(),
  periodStart: z.string(),
  periodEnd: z.string(),
  final: z.boolean(),
  lines: z.array(lineSchema),
  subtotalMinor: z.number(),
  totalMinor: z.number(),
  total: z.string(),
  issuedAt: z.string().nullable(),
  dueAt: z.string().nullable(),
  overdue: z.boolean(),
  paidAt: z.string().nullable(),
  paymentReference: z.string().nullable(),
  voidedAt: z.string().nullable(),
  voidReason: z.string().nullable(),
  creditNotes: z.array(creditNoteSchema),
});

export const problemResponses = {
  400: { description: 'Invalid request' },
  401: { description: 'No valid signed context' },
  403: { description: 'Not permitted' },
} as const;
