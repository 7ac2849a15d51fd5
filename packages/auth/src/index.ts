// Public surface of @taskpulse/auth; each module exports its own part.
export {};
export * from './api-keys';
