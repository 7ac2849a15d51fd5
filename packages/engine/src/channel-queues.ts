/**
 * One queue of steps per channel: a subscriber's reconciliations of one channel run one after another
 * (a subscribe never overtakes the unsubscribe before it), while different channels go on in parallel.
 */
export class ChannelQueues {
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * Runs `step` after the steps already queued for `channel` and returns it. The queue's tail ignores a
   * failure only to keep the queue going; the caller gets the failure from the returned promise.
   */
  enqueue(channel: string, step: () => Promise<void>): Promise<void> {
    const previous = this.tails.get(channel) ?? Promise.resolve();
    const run = previous.then(step);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(channel, tail);
    void tail.then(() => {
      if (this.tails.get(channel) === tail) this.tails.delete(channel);
    });
    return run;
  }
}
