export * from './with-tenant';
export * from './row-level-security';
export * from './service-data-source';
