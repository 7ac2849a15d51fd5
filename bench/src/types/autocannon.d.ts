/** The part of autocannon's API the read scenario uses (the package ships no types). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  interface Request {
    method?: string;
    path?: string;
    body?: string;
    headers?: Record<string, string>;
    setupRequest?: (request: Request, context: Record<string, unknown>) => Request;
  }

  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    warmup?: { connections?: number; duration?: number };
    requests?: Request[];
    renderProgressBar?: boolean;
  }

  interface Stat {
    average: number;
    total: number;
    p50: number;
    p99: number;
    p99_9: number;
    max: number;
  }

  interface Result {
    requests: Stat;
    latency: Stat;
    non2xx: number;
    errors: number;
    timeouts: number;
    duration: number;
  }

  interface Instance extends EventEmitter, PromiseLike<Result> {}

  function autocannon(options: Options): Instance;
  export default autocannon;
}
