export * from './config';
export * from './in-process-runner';
export * from './video-processor';
export * from './video-worker';
export * from './metrics';
