/**
 * Task positions saved per node rather than per session. Every socket on a task's topic was sent the same
 * frames, so the topic's position (task-relay.ts) is each of their positions: a session saves such a task
 * as "the node's position" (a marked position, with the position at the time as a floor), and the node
 * saves all its topic positions under one key once per refresh. A busy session then never needs saving
 * again while its subscriptions stay as they are; a restore resolves the marks (`loadResolvedSession`).
 */
import type { ConnectionSession, SessionStore, TaskPosition } from '@taskpulse/engine';

/** Separates the epoch from the node id in a marked position ('#' is in no epoch, task or client id). */
const MARK = '#';

/** Where a node's topic positions are kept: a session id no client can send ('#' and '/' fail the id check). */
export function nodePositionsId(nodeId: string): string {
  return `${MARK}node/${nodeId}`;
}

/** The position as "node `nodeId`'s position of the task, at least this one". */
export function markNodePosition(position: TaskPosition, nodeId: string): TaskPosition {
  return { offset: position.offset, epoch: `${position.epoch}${MARK}${nodeId}` };
}

/** The node and the floor position of a marked position, or undefined for a plain one. */
export function readMark(position: TaskPosition): { nodeId: string; floor: TaskPosition } | undefined {
  const at = position.epoch.indexOf(MARK);
  if (at < 0) return undefined;
  return { nodeId: position.epoch.slice(at + 1), floor: { offset: position.offset, epoch: position.epoch.slice(0, at) } };
}

/** The newer of a node's saved position and a session's floor (a node position in another epoch is newer). */
export function newerPosition(node: TaskPosition | undefined, floor: TaskPosition): TaskPosition {
  if (node === undefined) return floor;
  if (floor.epoch === '' || node.epoch !== floor.epoch || node.offset >= floor.offset) return node;
  return floor;
}

/** The session with every marked position replaced by its node's saved one (or its floor when the node saved none). */
export async function resolveSession(engine: Pick<SessionStore, 'loadSession'>, session: ConnectionSession): Promise<ConnectionSession> {
  const nodes = new Map<string, Promise<ConnectionSession | null>>();
  const tasks: Record<string, TaskPosition> = {};
  for (const [taskId, position] of Object.entries(session.tasks)) {
    const mark = readMark(position);
    if (!mark) {
      tasks[taskId] = position;
      continue;
    }
    let saved = nodes.get(mark.nodeId);
    if (!saved) nodes.set(mark.nodeId, (saved = engine.loadSession(nodePositionsId(mark.nodeId))));
    tasks[taskId] = newerPosition((await saved)?.tasks[taskId], mark.floor);
  }
  return { who: session.who, tasks };
}

/** A closed connection's session with its positions resolved, or null when none is kept. */
export async function loadResolvedSession(engine: Pick<SessionStore, 'loadSession'>, clientId: string): Promise<ConnectionSession | null> {
  const session = await engine.loadSession(clientId);
  return session && resolveSession(engine, session);
}
