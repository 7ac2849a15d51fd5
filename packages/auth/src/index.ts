// Public surface of @taskpulse/auth; each module exports its own part.
export * from './auth-config';
export * from './origins';
export * from './task-access';
export * from './token-verifier';
export * from './api-keys';
