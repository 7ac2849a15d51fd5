/**
 * Our system as deployed in a cluster: gateway processes (apps/gateway/src/main.ts) on one Redis, and the
 * API (apps/api/src/main.ts) for the read scenario, each configured only from the environment.
 */
import { freePort, startTsProcess, waitFor } from '@taskpulse/testkit';
import { createFanoutReader } from './prometheus-fanout';
import { repoFile, runningNodes, startNodes, type RunningSystem, type SystemDriver } from './system';

const needed = [
  'apps/gateway/src/main.ts',
  'apps/api/src/main.ts',
  'packages/engine/src/index.ts',
  'packages/reporter/src/index.ts',
];

/** Our gateway nodes on one Redis, and the API on demand. */
export const oursDriver: SystemDriver = {
  name: 'ours',
  label: 'taskpulse',
  wire: 'taskpulse',
  missing() {
    const absent = needed.filter((f) => !repoFile(f).exists);
    return absent.length ? `not built yet in this checkout: ${absent.join(', ')}` : null;
  },
  async start({ redisUrl, prefix, nodes: count }): Promise<RunningSystem> {
    // Insecure mode: the bench clients speak the guide's protocol (user_id in the URL), as every compared system does.
    const env = { REDIS_URL: redisUrl, KEY_PREFIX: prefix, LOG_LEVEL: 'warn', HOST: '127.0.0.1', AUTH_MODE: 'insecure' };
    const nodes = await startNodes(repoFile('apps/gateway/src/main.ts').path, count, (i) => ({ ...env, NODE_ID: `bench-gw-${i}` }));
    // The gateway listens before Redis is up; it is ready when /readyz answers 200.
    await Promise.all(
      nodes.map((n) =>
        waitFor(`gateway on ${n.port} to be ready`, async () => (await fetch(`http://127.0.0.1:${n.port}/readyz`).catch(() => null))?.ok, 30_000, 100),
      ),
    ).catch(async (error: unknown) => {
      await Promise.all(nodes.map((n) => n.process.kill()));
      throw error;
    });
    const extra: Array<() => Promise<unknown>> = [];
    return {
      ...runningNodes('ours', 'taskpulse', nodes),
      async startApi() {
        const port = await freePort();
        const api = startTsProcess(repoFile('apps/api/src/main.ts').path, { ...env, PORT: String(port) });
        extra.push(() => api.stop(3000));
        const url = `http://127.0.0.1:${port}`;
        await api.waitForOutput(/listening/i, 30_000);
        return { url, process: { label: 'ours-api', group: 'api', pid: api.child.pid! } };
      },
      fanout: createFanoutReader(nodes),
      async stop() {
        await Promise.all([...nodes.map((n) => n.process.stop(3000)), ...extra.map((f) => f())]);
      },
    };
  },
};
