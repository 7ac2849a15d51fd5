/**
 * Channel names, which are also the gateway's uWebSockets.js topic names. The task part sits in a
 * `{t:…}` hash tag so that a task's keys and channel live on one Redis Cluster shard.
 */

/** The channel of one task's events. */
export function taskChannel(prefix: string, taskId: string): string {
  return `${prefix}:{t:${taskId}}`;
}

/** The broadcast channel of one user's connections. */
export function userChannel(prefix: string, userId: string): string {
  return `${prefix}:u:${userId}`;
}

/** The broadcast channel of one project's connections. */
export function projectChannel(prefix: string, projectId: string): string {
  return `${prefix}:p:${projectId}`;
}
