/** Size limits of what a task event may carry; enforced before anything is written. */
export const LIMITS = {
  /** Characters in a progress message or a broadcast message. */
  messageChars: 2048,
  /** Characters in a step name. */
  stepNameChars: 256,
  /** Characters in a failure's error text (cause chain included). */
  errorChars: 8192,
  /** Bytes of a task result once encoded as JSON. */
  resultBytes: 65536,
  /** Largest total_steps a task may declare. */
  maxSteps: 1_000_000,
  /** Entries kept in a task's history. */
  historyEntries: 100,
  /** Seconds a task's history and snapshot live after its last event. */
  historyTtlSeconds: 86_400,
  /** Bytes of one client -> server frame. */
  clientFrameBytes: 4096,
  /** Task subscriptions one connection may hold. */
  subscriptionsPerConnection: 100,
} as const;
