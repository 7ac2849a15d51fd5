/** Starts gateways on free ports for a test and closes them (and their engines) afterwards. */
import { freePort } from '@taskpulse/testkit';
import type { Engine } from '@taskpulse/engine';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/index';
import { silentLogger } from './engines';

export interface RunningGateway {
  gateway: Gateway;
  port: number;
  /** ws://127.0.0.1:<port>/api/v1/ws?<query> */
  wsUrl(query?: string): string;
  httpUrl(path: string): string;
}

const running = new Set<Gateway>();
const engines = new Set<Engine>();

/** Creates a gateway on the engine and listens on a free port. */
export async function startGateway(options: Partial<GatewayOptions> & { engine: Engine }): Promise<RunningGateway> {
  const gateway = createGateway({ logger: silentLogger, drainGraceMs: 50, heartbeatIntervalMs: 100, ...options });
  running.add(gateway);
  const port = await gateway.listen(await freePort(), '127.0.0.1');
  return {
    gateway,
    port,
    wsUrl: (query = '') => `ws://127.0.0.1:${port}/api/v1/ws${query ? `?${query}` : ''}`,
    httpUrl: (path) => `http://127.0.0.1:${port}${path}`,
  };
}

/** Closes the engine after the test, after the gateways. */
export function closeLater<T extends Engine>(engine: T): T {
  engines.add(engine);
  return engine;
}

/** Closes every gateway then every engine a test started. */
export async function closeAll(): Promise<void> {
  await Promise.all([...running].map((gateway) => gateway.close()));
  running.clear();
  await Promise.all([...engines].map((engine) => engine.close()));
  engines.clear();
}
