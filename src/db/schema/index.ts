export * from './installations.ts';
export * from './deliveries.ts';
export * from './installation-events.ts';
