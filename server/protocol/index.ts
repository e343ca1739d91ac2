/** The control socket contract (SPEC §1.7), shared by the relay, the client library and the app. Pure: no Node built-ins. */
export * from './errors.ts';
export * from './rpc-messages.ts';
export * from './method-table.ts';
export * from './config-contract.ts';
export * from './queue-contract.ts';
export * from './logs-contract.ts';
export * from './stats-contract.ts';
export * from './users-contract.ts';
export * from './service-contract.ts';
export * from './relaxed-schema.ts';
