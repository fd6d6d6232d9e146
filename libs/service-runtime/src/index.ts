export * from './create-service';
export * from './service-consumers';
export * from './run-service';
export * from './instance-id';
