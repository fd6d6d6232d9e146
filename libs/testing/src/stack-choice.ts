/**
 * Which stack the integration tests run against, decided once by the jest global setup:
 *
 *   KAFKA_BROKERS, SCHEMA_REGISTRY_URL and DATABASE_ADMIN_URL all given -> 'environment' (as is)
 *   TENANTRY_TEST_STACK=processes|containers                           -> that one (forced)
 *   a Docker engine answers                                           -> 'containers' (testcontainers)
 *   otherwise                                                         -> 'processes' (deploy/local)
 *
 * Docker is probed only when it matters, so a run with addresses given never waits for it.
 */
import { STACK_ENV_VARS } from './stack-env';

export type TestStackKind = 'environment' | 'containers' | 'processes';

export interface TestStackChoice {
  readonly kind: TestStackKind;
  /** One line for the log: why this stack. */
  readonly reason: string;
}

export const FORCE_STACK_VAR = 'TENANTRY_TEST_STACK';

export async function chooseTestStack(
  env: NodeJS.ProcessEnv,
  dockerAnswers: () => Promise<boolean>,
): Promise<TestStackChoice> {
  const given = STACK_ENV_VARS.filter((k) => env[k]?.trim());
  if (given.length === STACK_ENV_VARS.length) {
    return { kind: 'environment', reason: `${STACK_ENV_VARS.join(', ')} are set` };
  }
  const partly = given.length > 0 ? ` (only ${given.join(', ')} set; all three are needed)` : '';
  const forced = env[FORCE_STACK_VAR]?.trim();
  if (forced === 'processes' || forced === 'containers') {
    return { kind: forced, reason: `${FORCE_STACK_VAR}=${forced}${partly}` };
  }
  if (forced) {
    throw new Error(`${FORCE_STACK_VAR} must be "processes" or "containers", not "${forced}"`);
  }
  return (await dockerAnswers())
    ? { kind: 'containers', reason: `a Docker engine answers${partly}` }
    : { kind: 'processes', reason: `no Docker engine answers${partly}` };
}
