/**
 * Redis key names (docs/architecture.md, "Keys"). A task's keys share the `{t:<task>}` hash
 * tag of its channel, so that one task lives on one Redis Cluster shard.
 */
import { taskChannel, type TaskStatus } from '@taskpulse/protocol';

/** The keys and channel of one task. */
export interface TaskKeys {
  /** Stream of the last 100 frames, entry ids `<offset>-0`. */
  history: string;
  /** Hash: snapshot fields (JSON texts) and the `_`-named bookkeeping fields below. */
  meta: string;
  channel: string;
}

/** The stream, hash and channel of one task. */
export function taskKeys(prefix: string, taskId: string): TaskKeys {
  const channel = taskChannel(prefix, taskId);
  return { history: `${channel}:h`, meta: `${channel}:m`, channel };
}

/** Bookkeeping fields of the meta hash; snapshot fields never start with `_`. */
export const META_FIELDS = {
  epoch: '_epoch',
  offset: '_offset',
  progressFrame: '_pf',
  progressOffset: '_po',
  statusFrame: '_sf',
  statusOffset: '_so',
  /** `_src:<source>`: the last dedupe id seen from an ordered source. */
  sourcePrefix: '_src:',
  /** ms (publisher's clock) when both keys' expiry was last set. */
  expirySetAt: '_ttl',
} as const;

/**
 * Sorted set of the tasks whose current status is `status`, scored by their last indexed event's time in
 * ms. All index keys share the `{idx}` hash tag: one slot, so the index script is atomic on a cluster.
 */
export function statusIndexKey(prefix: string, status: TaskStatus): string {
  return `${prefix}:{idx}:${status}`;
}

/** Hash task → `<epoch>:<offset>` of the event the index holds, so an older event never overwrites a newer one. */
export function statusIndexPositionKey(prefix: string): string {
  return `${prefix}:{idx}:at`;
}

/** Sorted set of gateway node ids scored by the ms their report expires (hash tag `{nodes}`, one slot). */
export function nodesKey(prefix: string): string {
  return `${prefix}:{nodes}`;
}

/** One node's report as JSON, expiring with the report; in the `{nodes}` slot with nodesKey. */
export function nodeKey(prefix: string, nodeId: string): string {
  return `${prefix}:{nodes}:${nodeId}`;
}

/** A connection's session (identity) for resume by `old_client_id`, expiring after the resume window. */
export function sessionKey(prefix: string, clientId: string): string {
  return `${prefix}:s:${clientId}`;
}
