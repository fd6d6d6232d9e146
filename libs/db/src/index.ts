export * from './with-tenant';
export * from './row-level-security';
export * from './row-level-security-coverage';
export * from './append-only-table';
export * from './personal-data-erasure';
export * from './service-data-source';
export * from './single-replica-lock';
export * from './single-replica-task';
