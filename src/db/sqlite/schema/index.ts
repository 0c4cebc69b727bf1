export * from './installations.ts';
export * from './deliveries.ts';
export * from './outbox-jobs.ts';
export * from './token-handouts.ts';
export * from './counters.ts';
export * from './daily-summary.ts';
export * from './reconcile-schedule.ts';
