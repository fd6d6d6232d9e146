import type { Express } from 'express';
import { z } from 'zod';
import type { HttpLogger } from '@tenantry/http';
import { createHttpApp, validateBody } from '@tenantry/http';
import type { ContextTokenKey } from '@tenantry/tenancy';
import { requireTenantContext } from '@tenantry/tenancy';
import type { OrderTestService } from './order-service';

const placeOrderBody = z.strictObject({
  totalCents: z.number().int().positive(),
  note: z.string().max(200).default(''),
});

/** The test service's HTTP side, built the way every service builds its API. */
export function createOrderHttpApi(
  service: OrderTestService,
  contextKeys: readonly ContextTokenKey[],
  logger: HttpLogger,
): Express {
  const validatePlaceOrder = validateBody(placeOrderBody);
  return createHttpApp({
    serviceName: 'orders-test',
    logger,
    contextKeys,
    readinessChecks: {
      database: async () => service.producer.query('SELECT 1'),
    },
    configure(app) {
      app.post('/v1/orders', validatePlaceOrder, async (req, res) => {
        const context = requireTenantContext();
        const order = await service.placeOrder(context.tenantId, validatePlaceOrder.value(req), {
          actorId: context.actor.id,
        });
        res.status(201).json(order);
      });
    },
  });
}
