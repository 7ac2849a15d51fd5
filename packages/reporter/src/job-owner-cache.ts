/**
 * Which task a BullMQ job reports about, and its owner. BullMQ events carry only the job id, so the bridge
 * reads the job once (at `active`) and keeps the answer for later events, including a `completed` that
 * arrives after `removeOnComplete` deleted the job.
 */
import { ownerOf, taskIdOf, type JobLike } from './with-progress';

export interface JobOwner {
  taskId: string;
  userId?: string;
  projectId?: string;
  /** The job was gone when read: the task id fell back to the job id and the owner is unknown. */
  removed?: boolean;
}

export interface JobOwnerCacheOptions {
  /** How long an entry lives after its last use (default 10 min). */
  ttlMs?: number;
  /** Most entries kept; the least recently used go first (default 10 000). */
  maxEntries?: number;
  now?: () => number;
}

/** A small LRU with expiry in front of `fetchJob`. */
export class JobOwnerCache {
  private readonly entries = new Map<string, { owner: JobOwner; expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly fetchJob: (jobId: string) => Promise<JobLike | undefined>,
    options: JobOwnerCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 600_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The job's owner; `fresh` skips the cache (a job id may be reused after its job was removed). */
  async resolve(jobId: string, fresh = false): Promise<JobOwner> {
    const cached = this.entries.get(jobId);
    if (!fresh && cached && cached.expiresAt > this.now()) {
      this.remember(jobId, cached.owner);
      return cached.owner;
    }
    const job = await this.fetchJob(jobId);
    if (!job) return { taskId: jobId, removed: true };
    const owner: JobOwner = { taskId: taskIdOf({ id: jobId, data: job.data }), ...ownerOf(job) };
    this.remember(jobId, owner);
    return owner;
  }

  /** Drops a finished job's entry. */
  forget(jobId: string): void {
    this.entries.delete(jobId);
  }

  get size(): number {
    return this.entries.size;
  }

  private remember(jobId: string, owner: JobOwner): void {
    const now = this.now();
    this.entries.delete(jobId);
    this.entries.set(jobId, { owner, expiresAt: now + this.ttlMs });
    // Map order is use order, so the oldest entries are first.
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && entry.expiresAt > now) break;
      this.entries.delete(id);
    }
  }
}
