/**
 * Connections per user, per node: a user id (from the token in jwt mode, from the query in insecure mode)
 * may hold at most `limits.connectionsPerUser` open connections on one gateway; one more is refused at
 * upgrade with 429 `too_many_connections`. Anonymous connections are not counted. The count is the node's
 * own (NodeCounts), so a cluster of N nodes allows up to N times the limit behind a balancer.
 */
import type { ConnectionIdentity } from './connection';
import type { NodeCounts } from './node-heartbeat';

/** The refusal message when the identity's user is at `max` (0 = no limit), else undefined. */
export function userConnectionRefusal(counts: NodeCounts, identity: ConnectionIdentity, max: number): string | undefined {
  if (max <= 0 || identity.userId === undefined) return undefined;
  if (counts.userCount(identity.userId) < max) return undefined;
  return `user ${identity.userId} already holds ${max} connections on this node (MAX_CONNECTIONS_PER_USER); close one first`;
}
