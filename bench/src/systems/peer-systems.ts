/** The two reference systems the benchmark starts itself: the Socket.IO peer (S5) and the bare ceiling (S0). */
import { readPeerFanout, repoFile, runningNodes, startNodes, type RunningSystem, type SystemDriver } from './system';

const socketIoServer = repoFile('bench/src/peers/socketio-server.ts');
const ceilingServer = repoFile('bench/src/peers/bare-uws-server.ts');

/** Two Socket.IO nodes (bench/src/peers/socketio-server.ts). */
export const socketIoDriver: SystemDriver = {
  name: 'socketio',
  label: 'Socket.IO 4 + redis-adapter',
  wire: 'socketio',
  missing: () => null,
  async start({ redisUrl, nodes: count }): Promise<RunningSystem> {
    const nodes = await startNodes(socketIoServer.path, count, () => ({ REDIS_URL: redisUrl }));
    return {
      ...runningNodes('socketio', 'socketio', nodes),
      fanout: () => readPeerFanout(nodes),
      stop: async () => void (await Promise.all(nodes.map((n) => n.process.stop(3000)))),
    };
  },
};

/** Two bare uWS + Redis nodes (bench/src/peers/bare-uws-server.ts). */
export const ceilingDriver: SystemDriver = {
  name: 'ceiling',
  label: 'bare uWS + Redis (ceiling)',
  wire: 'taskpulse',
  missing: () => null,
  async start({ redisUrl, prefix, nodes: count }): Promise<RunningSystem> {
    const nodes = await startNodes(ceilingServer.path, count, () => ({ REDIS_URL: redisUrl, KEY_PREFIX: prefix }));
    return {
      ...runningNodes('ceiling', 'taskpulse', nodes),
      fanout: () => readPeerFanout(nodes),
      stop: async () => void (await Promise.all(nodes.map((n) => n.process.stop(3000)))),
    };
  },
};
