/**
 * Who connects where in S2 and S3. Connection `i` goes to node `i % 2` and subscribes to task
 * `t<floor(i / fanout)>`, so every task has subscribers on both nodes. The first connections also carry
 * the broadcast audiences: a user with `userConnections` connections, a project with
 * `bigProjectConnections` and one with `projectConnections`; connection 0 alone subscribes to `t-solo`.
 */
import type { BenchConfig } from '../config';
import type { ConnSpec, TaskOwner } from '../control/commands';

/** The task with a single subscriber, and the broadcast audiences of S3. */
export const SOLO_TASK = 't-solo';
export const BROADCAST_USER = 'u-bcast';
export const BIG_PROJECT = 'p-big';
export const PROJECT = 'p-mid';

/** The connections of S2/S3, the tasks and their owners. */
export interface Layout {
  conns: ConnSpec[];
  tasks: string[];
  owners: TaskOwner[];
}

/** The layout for a config on `nodes` nodes. */
export function fanoutLayout(config: BenchConfig, nodes: number): Layout {
  const { connections, fanout } = config.s2;
  const { userConnections, bigProjectConnections, projectConnections } = config.s3;
  if (bigProjectConnections + projectConnections > connections) throw new Error('S3 projects need more connections than S2 opens');
  const conns: ConnSpec[] = [];
  for (let i = 0; i < connections; i++) {
    const user = i < userConnections ? BROADCAST_USER : `u${i}`;
    const project = i < bigProjectConnections ? BIG_PROJECT : i < bigProjectConnections + projectConnections ? PROJECT : 'p-rest';
    const tasks = [`t${Math.floor(i / fanout)}`];
    if (i === 0) tasks.push(SOLO_TASK);
    conns.push([i % nodes, user, project, tasks]);
  }
  const tasks = Array.from({ length: Math.ceil(connections / fanout) }, (_, j) => `t${j}`);
  // A task belongs to its first subscriber's user and to the project all its subscribers share, so the
  // benchmark holds even where a gateway only lets a connection follow its own user's or project's tasks.
  const owners: TaskOwner[] = tasks.map((t, j) => {
    const [, user, project] = conns[j * fanout]!;
    return [t, user, project];
  });
  owners.push([SOLO_TASK, conns[0]![1], conns[0]![2]]);
  return { conns, tasks, owners };
}
