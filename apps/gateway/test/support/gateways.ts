/**
 * Starts gateways for a test (in this process on free ports, or src/main.ts as a child process) and closes
 * them afterwards with the clients and engines the test opened.
 */
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { closeAllClients, freePort, startTsProcess, type ManagedProcess } from '@taskpulse/testkit';
import { testLogger, closeEngines } from '@taskpulse/testkit/engines';
import type { Engine } from '@taskpulse/engine';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/index';

export interface RunningGateway {
  gateway: Gateway;
  port: number;
  /** ws://127.0.0.1:<port>/api/v1/ws?<query> */
  wsUrl(query?: string): string;
  httpUrl(path: string): string;
}

const running = new Set<Gateway>();
const processes = new Set<ManagedProcess>();

/** The gateway's entry point, for tests that run it as a real process. */
export const GATEWAY_MAIN_FILE = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** Creates a gateway on the engine and listens on a free port. */
export async function startGateway(options: Partial<GatewayOptions> & { engine: Engine }): Promise<RunningGateway> {
  const gateway = createGateway({ logger: testLogger, drainGraceMs: 50, heartbeatIntervalMs: 100, ...options });
  running.add(gateway);
  const port = await gateway.listen(await freePort(), '127.0.0.1');
  return {
    gateway,
    port,
    wsUrl: (query = '') => `ws://127.0.0.1:${port}/api/v1/ws${query ? `?${query}` : ''}`,
    httpUrl: (path) => `http://127.0.0.1:${port}${path}`,
  };
}

/** Runs src/main.ts as a child process with `env` added to this one's; killed by `closeAll`. */
export function startGatewayProcess(env: Record<string, string>): ManagedProcess {
  const child = startTsProcess(GATEWAY_MAIN_FILE, env);
  processes.add(child);
  return child;
}

/** Closes what a test opened, clients first: clients, gateway processes, gateways, then engines (testkit's closeEngines). */
export async function closeAll(): Promise<void> {
  await closeAllClients();
  await Promise.all([...processes].map((child) => child.kill()));
  processes.clear();
  await Promise.all([...running].map((gateway) => gateway.close()));
  running.clear();
  await closeEngines();
}

/** Registers `closeAll` after each test of the file. */
export function closeAllAfterEach(): void {
  afterEach(closeAll);
}
