import { z } from 'zod';
import type { ApiRoutes } from '@tenantry/http';
import { requireTenantContext } from '@tenantry/tenancy';
import { BillingRefusedError } from '../application/billing-refused-error';
import { eventIdsFromKey } from '../application/event-ids';
import {
  issueCreditNote,
  markInvoicePaid,
  voidInvoice,
} from '../application/settle-invoice/settle-invoice';
import { renderInvoiceHtml } from './invoice-html';
import type { RouteDeps } from './route-deps';
import { inTenant, requireOperator } from './route-deps';
import { creditNoteSchema, invoiceParams, invoiceSchema, problemResponses } from './schemas';
import { invoiceView } from './views';

const reasonSchema = z.string().trim().min(3).max(500);

/** The tenant's invoices: read (JSON, HTML), record a payment; operators void and credit. */
export function addInvoiceRoutes(routes: ApiRoutes, routeDeps: RouteDeps): void {
  const { deps } = routeDeps;
  const one = (invoiceId: string) =>
    inTenant(routeDeps, async (tx) => {
      const invoice = await deps.invoices.find(tx, invoiceId);
      if (!invoice || invoice.status === 'draft') {
        throw new BillingRefusedError('not-found', 'No such invoice.');
      }
      return invoiceView(tx, deps.invoices, invoice);
    });

  routes.add(
    {
      method: 'get',
      path: '/v1/billing/invoices',
      summary: 'The tenant’s invoices, newest first',
      tags: ['billing'],
      permission: 'billing.invoices:read',
      responses: {
        200: {
          description: 'Invoices (at most 100)',
          schema: z.object({ invoices: z.array(invoiceSchema) }),
        },
        ...problemResponses,
      },
    },
    async (_input, _req, res) => {
      const invoices = await inTenant(routeDeps, async (tx) =>
        Promise.all((await deps.invoices.list(tx)).map((i) => invoiceView(tx, deps.invoices, i))),
      );
      res.json({ invoices });
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/billing/invoices/:invoiceId',
      summary: 'One invoice with its lines and credit notes',
      tags: ['billing'],
      permission: 'billing.invoices:read',
      params: invoiceParams,
      responses: {
        200: { description: 'The invoice', schema: invoiceSchema },
        404: { description: 'No such invoice in this tenant' },
        ...problemResponses,
      },
    },
    async ({ params }, _req, res) => {
      res.json(await one(params.invoiceId));
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/billing/invoices/:invoiceId/html',
      summary: 'One invoice as a printable HTML page',
      tags: ['billing'],
      permission: 'billing.invoices:read',
      params: invoiceParams,
      responses: {
        200: { description: 'text/html' },
        404: { description: 'No such invoice in this tenant' },
        ...problemResponses,
      },
    },
    async ({ params }, _req, res) => {
      const view = await one(params.invoiceId);
      res
        .type('html')
        .set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .send(renderInvoiceHtml(view, requireTenantContext().tenantId));
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/billing/invoices/:invoiceId/payments',
      summary: 'Record a manual payment of the full amount (audited)',
      tags: ['billing'],
      permission: 'billing.subscription:manage',
      idempotency: 'optional',
      params: invoiceParams,
      body: z.strictObject({
        amountMinor: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
        reference: z.string().trim().min(1).max(200),
      }),
      responses: {
        200: { description: 'The paid invoice', schema: invoiceSchema },
        404: { description: 'No such invoice in this tenant' },
        409: { description: 'Not payable (paid or void)' },
        422: { description: 'Not the invoice total' },
        ...problemResponses,
      },
    },
    async ({ params, body, idempotencyKey }, _req, res) => {
      const { actor } = requireTenantContext();
      const view = await inTenant(routeDeps, async (tx) => {
        const paid = await markInvoicePaid(tx, deps, actor, {
          invoiceId: params.invoiceId,
          amountMinor: BigInt(body.amountMinor),
          reference: body.reference,
          eventIds: eventIdsFromKey(idempotencyKey),
        });
        return invoiceView(tx, deps.invoices, paid);
      });
      res.json(view);
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/billing/invoices/:invoiceId/void',
      summary: 'Void an unpaid invoice with a credit note for its total (operators; audited)',
      tags: ['billing'],
      // Operators hold no tenant role, so the gateway lets them through only where a route asks
      // for `authenticated`; requireOperator() below is the real check (as for POST /plans).
      permission: 'authenticated',
      idempotency: 'optional',
      params: invoiceParams,
      body: z.strictObject({ reason: reasonSchema }),
      responses: {
        200: { description: 'The void invoice', schema: invoiceSchema },
        404: { description: 'No such invoice in this tenant' },
        409: { description: 'Not voidable (paid or void)' },
        ...problemResponses,
      },
    },
    async ({ params, body, idempotencyKey }, _req, res) => {
      const actor = requireOperator();
      const view = await inTenant(routeDeps, async (tx) => {
        const { invoice } = await voidInvoice(tx, deps, actor, {
          invoiceId: params.invoiceId,
          reason: body.reason,
          eventIds: eventIdsFromKey(idempotencyKey),
        });
        return invoiceView(tx, deps.invoices, invoice);
      });
      res.json(view);
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/billing/invoices/:invoiceId/credit-notes',
      summary: 'Correct an issued or paid invoice with a credit note (operators; audited)',
      tags: ['billing'],
      // Operators hold no tenant role, so the gateway lets them through only where a route asks
      // for `authenticated`; requireOperator() below is the real check (as for POST /plans).
      permission: 'authenticated',
      idempotency: 'optional',
      params: invoiceParams,
      body: z.strictObject({
        amountMinor: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
        reason: reasonSchema,
      }),
      responses: {
        201: { description: 'The credit note', schema: creditNoteSchema },
        404: { description: 'No such invoice in this tenant' },
        409: { description: 'The invoice is void' },
        422: { description: 'More than is left of the invoice' },
        ...problemResponses,
      },
    },
    async ({ params, body, idempotencyKey }, _req, res) => {
      const actor = requireOperator();
      const note = await inTenant(routeDeps, (tx) =>
        issueCreditNote(tx, deps, actor, {
          invoiceId: params.invoiceId,
          amountMinor: BigInt(body.amountMinor),
          reason: body.reason,
          eventIds: eventIdsFromKey(idempotencyKey),
        }),
      );
      res.status(201).json({
        id: note.id,
        number: note.number,
        amountMinor: Number(note.amountMinor),
        currency: note.currency,
        reason: note.reason,
        issuedAt: note.issuedAt.toISOString(),
      });
    },
  );
}
