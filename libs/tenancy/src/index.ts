export * from './tenant-context';
export * from './context-headers';
export * from './context-token-key';
export * from './context-token-key-pair';
export * from './context-token';
export * from './development-secret';
