export * from './free-port';
export * from './processes';
export * from './redis-server';
export * from './wait-for';
export * from './guide-snippets';
export * from './thrown';
export * from './chromium';
export * from './redis-cluster';
