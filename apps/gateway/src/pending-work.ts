/**
 * Background promises the gateway started and must see finish before it reports itself closed:
 * subscribe windows still awaiting the engine, and the engine unregistrations a closed socket leaves.
 */
export class PendingWork {
  private readonly pending = new Set<Promise<unknown>>();

  /** Keeps `work` until it settles; returns it. The caller handles its rejection. */
  track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const forget = () => this.pending.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** How many are still running. */
  get size(): number {
    return this.pending.size;
  }

  /** Resolves once everything tracked (including work started meanwhile) settled, or false after `timeoutMs`. */
  async settle(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const drained = (async () => {
      while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
      return true as const;
    })();
    const done = await Promise.race([drained, timeout]);
    clearTimeout(timer);
    return done;
  }
}
