import type { AvroRecordSchema } from '../../src';
import { defineEvent } from '../../src';

export interface OrderPlaced {
  orderId: string;
  totalCents: number;
  note: string;
}

export const orderPlacedSchema: AvroRecordSchema = {
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'tenantry.test',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'totalCents', type: 'long' },
    { name: 'note', type: 'string', default: '' },
  ],
};

/**
 * A small catalogue for the test service. Each test run uses its own domain, so its topics and
 * registry subjects are fresh.
 */
export function orderCatalogue(domain: string) {
  const topic = `${domain}.orders`;
  return {
    topic,
    orderPlaced: defineEvent<OrderPlaced>({
      type: `${domain}.order.placed`,
      topic,
      schema: orderPlacedSchema,
    }),
  };
}
