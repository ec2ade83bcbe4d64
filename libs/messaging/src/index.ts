export * from './event-consumer';
export * from './event-publisher';
export * from './idempotency';
export * from './event-batch-consumer';
export * from './sql-ledger';
