/**
 * What a publisher process calls to put one event into a system. Each system gets the path its own users
 * would use from a worker process:
 * - ours: the reporter (packages/reporter) on the Redis engine: one Lua script stores and PUBLISHes;
 * - Socket.IO: what @socket.io/redis-emitter does: the msgpack packet PUBLISHed on the room's adapter
 *   channel, which every node's redis-adapter receives and broadcasts to its local room;
 * - the bare ceiling: a plain PUBLISH of ready frame bytes.
 */
export interface Sender {
  /** One progress event of a task; a promise when the system acknowledges asynchronously. */
  taskEvent(taskId: string, seq: number, message: string): Promise<unknown> | void;
  /** One broadcast to a user's or a project's connections. */
  broadcast(scope: 'user' | 'project', target: string, taskId: string, seq: number, message: string): Promise<unknown> | void;
  /** Makes a task known with its owner before load (ours: notifyTaskStart). */
  startTask(taskId: string, userId: string, projectId: string): Promise<unknown> | void;
  close(): Promise<void>;
}

/** Which system a publisher feeds. */
export type SystemName = 'ours' | 'socketio' | 'ceiling';

/** Creates the sender for a system, connected to Redis at `url` with key prefix `prefix`. */
export async function createSender(system: SystemName, url: string, prefix: string): Promise<Sender> {
  switch (system) {
    case 'ours':
      return (await import('./ours-sender')).createOursSender(url, prefix);
    case 'socketio':
      return (await import('./socketio-sender')).createSocketIoSender(url);
    case 'ceiling':
      return (await import('./ceiling-sender')).createCeilingSender(url, prefix);
  }
}
