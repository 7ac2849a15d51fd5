/**
 * The engine: where task events are stored and fanned out. Four roles, each its own interface (TaskStore,
 * PubSub, NodeRegistry, SessionStore), plus EngineStatus; `Engine` is all of them. Implementations side by
 * side (memory-engine.ts, the embedded default; redis-engine.ts, the cluster's), one contract suite
 * (test/engine-contract.ts, one group of cases per role) that runs on every backend of the test matrix.
 * Code that needs one role asks for that role's interface; compose-engine.ts builds an engine from role
 * objects, so a backend (or a presence store) can replace one role alone.
 *
 * The contract:
 * - `publish` applies one task event atomically: it takes the task's next offset (1, 2, 3… per epoch),
 *   appends the frame to the task's history (the newest 100 kept), sets the history and snapshot to
 *   expire 24 h after this event (Redis refreshes the expiry at most once a minute, so there it may come
 *   up to a minute sooner), updates the snapshot, and publishes the frame on the task's channel.
 *   Readers never see one of these without the others. Events of one task are ordered by offset; two
 *   concurrent publishers on one task get distinct, increasing offsets and neither event is lost.
 *   Calls one caller makes one after another (publish or publishBatch, without awaiting in between) are
 *   applied in call order: the reporter's coalescing window relies on it.
 * - The epoch is fixed when a task's snapshot is created and changes only when the snapshot was lost
 *   (expiry, flush, failover); a new epoch restarts offsets at 1 and discards older history.
 * - A progress event on a finished task (completed, failed, cancelled) is refused with
 *   TaskFinishedError and nothing is written; a `start` event reopens the task.
 * - A frame is encoded once, by protocol, as a template; the engine fills its position and the snapshot
 *   fields the event left as they were (protocol's fillTaskFrame), and subscribers get those bytes, ready to send.
 * - A limit of 0 returns nothing; a limit above 100 is an error.
 */
import type { EncodedTaskEvent, SnapshotTexts, TaskStatus } from '@taskpulse/protocol';
import type { EngineError } from './errors';

/** Called with the channel and the frame bytes, ready to send as they are. */
export type ChannelListener = (channel: string, frame: Buffer) => void;

/** Where an event came from in an ordered source (a BullMQ events stream): replays are skipped. */
export interface DedupeKey {
  /** Names the ordered source, e.g. `bullmq:<queue>`. */
  source: string;
  /** A Redis stream id `<ms>-<seq>`: events not newer than the last one seen from the source are duplicates. */
  id: string;
}

export type PublishResult =
  | { status: 'published'; offset: number; epoch: string; frame: Buffer }
  | { status: 'duplicate' };

/** One event of a batch: what `publish` takes as its two arguments. */
export interface BatchEvent {
  event: EncodedTaskEvent;
  dedupe?: DedupeKey;
}

/** What became of one event of a batch: published, a duplicate, or refused with its own typed error. */
export type BatchPublishResult = PublishResult | { status: 'error'; error: EngineError };

/** A task's snapshot without its frames: what a progress read answers (cheaper than TaskState). */
export interface TaskSnapshot {
  taskId: string;
  /** Newest offset in this epoch. */
  offset: number;
  epoch: string;
  /** Snapshot fields, each a JSON text; absent fields are absent. */
  fields: SnapshotTexts;
}

/** A task's current state: the snapshot and the frames a new subscriber is sent. */
export interface TaskState extends TaskSnapshot {
  /** The newest progress frame and the newest status frame that exist, oldest first: what a new subscriber gets. */
  frames: Buffer[];
}

/**
 * A slice of a task's history, newest first. `items` is ready to send: readers put it into a response as
 * it is, with no per-frame work; both engines build byte-identical `items`.
 */
export interface HistoryPage {
  offset: number;
  epoch: string;
  /** How many frames the page holds. */
  count: number;
  /** `[frame,frame,…]`: the stored frame bytes joined by commas (`[]` when empty). */
  items: Buffer;
  /** The same frames one by one. */
  frames: Buffer[];
}

/** Frames after a position, oldest first; `complete` is false when the history no longer reaches back that far. */
export interface ReplayResult {
  offset: number;
  epoch: string;
  frames: Buffer[];
  complete: boolean;
}

export interface TaskStats {
  /** Tasks with an event in the last 24 h. */
  tasks: number;
  by_status: Record<TaskStatus, number>;
}

/** One gateway node's connection counts. */
export interface NodeReport {
  nodeId: string;
  total: number;
  byUser: Record<string, number>;
  byProject: Record<string, number>;
  /**
   * True: `byUser` and `byProject` hold only the entries that changed since the node's previous report
   * (their new counts; 0 = none left), and the node's other entries stand, so a heartbeat costs what
   * changed rather than how many users the node holds. Absent or false: the report replaces the node's counts.
   */
  changesOnly?: boolean;
}

/**
 * `recorded`; or `needs_whole` for a changes-only report that found no counts of the node to change
 * (never reported, expired, or lost with Redis's data): nothing was written, send the whole counts.
 */
export type NodeReportResult = 'recorded' | 'needs_whole';

/** Connection counts summed over live gateway nodes, in the guide's shape. */
export interface ConnectionStats {
  total_clients: number;
  by_user: Record<string, number>;
  by_project: Record<string, number>;
  nodes: number;
}

/** Storing and reading task events. */
export interface TaskStore {
  /** Applies one encoded task event atomically (see the file comment). */
  publish(event: EncodedTaskEvent, options?: { dedupe?: DedupeKey }): Promise<PublishResult>;
  /**
   * Publishes many events (of any tasks) in one round trip where the engine can (Redis: one pipeline of
   * script calls, not a transaction). Each event is applied exactly as `publish` would, in array order;
   * the answer holds one result per event, in the same order. An event refused on its own (a finished
   * task, a bad dedupe key, Redis failing that command) gets `{status:'error'}` and does not stop the others.
   */
  publishBatch(events: readonly BatchEvent[]): Promise<BatchPublishResult[]>;
  /** The task's current state, or null for an unknown (or expired) task. */
  latest(taskId: string): Promise<TaskState | null>;
  /** The task's snapshot fields and position without its frames, or null for an unknown (or expired) task. */
  snapshot(taskId: string): Promise<TaskSnapshot | null>;
  /** The newest `limit` (0..100) frames, newest first, joined as one JSON array text; null for an unknown task. */
  history(taskId: string, limit: number): Promise<HistoryPage | null>;
  /** Up to `limit` (0..100) frames with offset > `afterOffset`, oldest first, or null for an unknown task. */
  replay(taskId: string, afterOffset: number, limit: number): Promise<ReplayResult | null>;
  /** Task counts over the last 24 h. */
  stats(): Promise<TaskStats>;
  /** Drops what has expired and returns how many tasks were dropped (Redis expires on its own: 0 or index entries). */
  cleanupOldHistory(): Promise<number>;
}

/** Channels: one subscriber per process, channels reference-counted per (channel, listener) registration. */
export interface PubSub {
  /**
   * Registers a listener; resolves once the channel is live (for Redis: SUBSCRIBE confirmed), so any
   * frame published after it resolves reaches the listener.
   */
  subscribe(channel: string, listener: ChannelListener): Promise<void>;
  /** Removes one registration; the last one for a channel leaves it. */
  unsubscribe(channel: string, listener: ChannelListener): Promise<void>;
  /** Publishes a ready frame on a channel (user and project broadcasts); resolves to the receiving processes (Redis) or listeners (memory). */
  broadcast(channel: string, frame: string | Buffer): Promise<number>;
  /** Tells `listener` about subscriber link changes (the memory engine never loses its link); returns the unsubscribe. */
  onLinkChange(listener: (event: LinkEvent) => void): () => void;
}

/** Gateway nodes' connection counts, each report expiring after its ttl. */
export interface NodeRegistry {
  /** Records a node's counts (whole, or its changes) and keeps them until `ttlSeconds` from now. */
  reportNode(report: NodeReport, ttlSeconds: number): Promise<NodeReportResult>;
  /** Forgets a node at once (clean shutdown). */
  removeNode(nodeId: string): Promise<void>;
  /** Sums the counts of nodes whose report has not expired. */
  connectionStats(): Promise<ConnectionStats>;
}

/** Who a connection is: the identity a resume by `old_client_id` gets back. */
export interface SessionIdentity {
  userId?: string;
  projectId?: string;
  /** Extra projects the connection's token granted. */
  projects?: string[];
  /** The JWT `sub` that created the session (jwt mode; absent in insecure mode). */
  subject?: string;
}

/** Where a task subscription stands: the newest offset (and its epoch) delivered to the connection. */
export interface TaskPosition {
  offset: number;
  epoch: string;
}

/**
 * A connection's session: who it is and each subscribed task with the last position delivered to it,
 * kept while the connection lives and for a resume window after it closes.
 */
export interface ConnectionSession {
  who: SessionIdentity;
  /** By task id; a task subscribed but not yet delivered has offset 0 and an empty epoch. */
  tasks: Record<string, TaskPosition>;
}

/** Connection sessions by client id, each expiring after its ttl. */
export interface SessionStore {
  /** Keeps `clientId`'s session for `ttlSeconds` from now, replacing an earlier one whole (atomically). */
  saveSession(clientId: string, session: ConnectionSession, ttlSeconds: number): Promise<void>;
  /** Saves many sessions in one round trip (each replaced atomically); for the gateway's periodic refresh. */
  saveSessions(sessions: ReadonlyArray<{ clientId: string; session: ConnectionSession }>, ttlSeconds: number): Promise<void>;
  /** Extends the ttl of sessions that did not change, in one round trip; unknown ids are ignored. */
  touchSessions(clientIds: readonly string[], ttlSeconds: number): Promise<void>;
  /** The session of `clientId`, or null when it is unknown or expired. */
  loadSession(clientId: string): Promise<ConnectionSession | null>;
}

/**
 * The subscriber link's changes: `lost` when the connection that carries channel frames went away (frames
 * published from then on are missed), `restored` once it is back and every registered channel is
 * subscribed again. Frames missed in between must be repaired from history by whoever relays them.
 */
export type LinkEvent = 'lost' | 'restored';

/** What an engine is beside its roles: its name, its prefix, whether it can serve, and close. */
export interface EngineStatus {
  /**
   * The backend's name for logs and errors (`memory`, `redis`, …). Any string, so a new backend edits no
   * union; code never branches on it (ask the roles instead).
   */
  readonly kind: string;
  /** Key and channel prefix. */
  readonly prefix: string;
  /** True while the engine can serve (Redis: both connections ready and the subscriber listening). */
  isReady(): boolean;
  /** Closes what the engine opened. */
  close(): Promise<void>;
}

/** The objects playing the four roles; see composeEngine. */
export interface EngineRoles {
  tasks: TaskStore;
  channels: PubSub;
  nodes: NodeRegistry;
  sessions: SessionStore;
}

/** Every role and the status: what an entry point creates and hands to the apps. */
export interface Engine extends TaskStore, PubSub, NodeRegistry, SessionStore, EngineStatus {}
