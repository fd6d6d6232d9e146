import { createLogger } from '@tenantry/observability';
import { ShutdownSteps } from './shutdown-steps';

describe('ShutdownSteps', () => {
  const logger = createLogger('shutdown-steps-test', { level: 'silent' });

  it('runs newest first, once, and keeps going past a failing step', async () => {
    const ran: string[] = [];
    const steps = new ShutdownSteps(logger);
    steps.push('pool', () => ran.push('pool'));
    steps.push('relay', () => {
      ran.push('relay');
      throw new Error('relay would not stop');
    });
    steps.push('http', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      ran.push('http');
    });
    await Promise.all([steps.runAll(), steps.runAll()]);
    await steps.runAll();
    expect(ran).toEqual(['http', 'relay', 'pool']);
  });
});
