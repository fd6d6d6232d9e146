export * from './test-database';
export * from './wait-for';
export * from './stack-env';
export * from './private-kafka';
export * from './private-registry';
export * from './context-token-test-keys';
export * from './kafka-link-faults';
export * from './private-postgres';
