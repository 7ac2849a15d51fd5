/** Node-only entry point (`@taskpulse/protocol/node`): byte-level helpers that rely on Buffer. */
export * from './frame-bytes';
