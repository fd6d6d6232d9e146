// The platform's published language: topics and the typed event catalogue of every service.
// Services import each other's events from here, never from each other.
export * from './platform-topics';
export * from './identity/identity-events';
export * from './gateway/gateway-events';
export * from './authorization/authorization-events';
export * from './authorization/permission-catalogue';
export * from './authorization/authorization-check-api';
export * from './billing/billing-events';
export * from './reporting/reporting-events';
