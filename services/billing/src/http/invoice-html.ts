import { formatMoney, money } from '../domain/money';
import type { InvoiceView } from './views';

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Every value is escaped: descriptions and references may carry text from outside. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** A self-contained, printable HTML page of an invoice. */
export function renderInvoiceHtml(invoice: InvoiceView, tenantId: string): string {
  const m = (minor: number): string => escapeHtml(formatMoney(money(minor, invoice.currency)));
  const rows = invoice.lines
    .map(
      (l) =>
        `<tr><td>${escapeHtml(l.description)}</td><td class="n">${l.quantity}</td>` +
        `<td class="n">${m(l.amountMinor)}</td></tr>`,
    )
    .join('\n');
  const notes = invoice.creditNotes
    .map((n) => `<li>${escapeHtml(n.number)}: ${m(n.amountMinor)} (${escapeHtml(n.reason)})</li>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Invoice ${escapeHtml(invoice.number)}</title>
<style>body{font-family:sans-serif;margin:2rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ccc;padding:.4rem;text-align:left}.n{text-align:right}</style>
</head><body>
<h1>Invoice ${escapeHtml(invoice.number)}</h1>
<p>Status: <strong>${escapeHtml(invoice.status)}</strong>${invoice.final ? ' (final invoice)' : ''}</p>
<p>Tenant: ${escapeHtml(tenantId)}<br>Period: ${escapeHtml(invoice.periodStart)} to ${escapeHtml(invoice.periodEnd)}<br>
Issued: ${escapeHtml(invoice.issuedAt ?? '')}<br>Due: ${escapeHtml(invoice.dueAt ?? '')}</p>
<table><thead><tr><th>Description</th><th class="n">Quantity</th><th class="n">Amount</th></tr></thead>
<tbody>
${rows}
</tbody>
<tfoot><tr><th colspan="2">Total</th><th class="n">${m(invoice.totalMinor)}</th></tr></tfoot></table>
${notes ? `<h2>Credit notes</h2><ul>${notes}</ul>` : ''}
${invoice.paidAt ? `<p>Paid ${escapeHtml(invoice.paidAt)} (${escapeHtml(invoice.paymentReference ?? '')})</p>` : ''}
${invoice.voidedAt ? `<p>Void ${escapeHtml(invoice.voidedAt)}: ${escapeHtml(invoice.voidReason ?? '')}</p>` : ''}
</body></html>`;
}
