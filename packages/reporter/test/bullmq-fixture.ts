/**
 * Real BullMQ on the test Redis: a random queue name and key prefix per test, and one place that closes
 * every worker, queue and bridge a test opened.
 */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { Queue, Worker, type ConnectionOptions, type Processor, type WorkerOptions } from 'bullmq';

export interface BullmqFixture {
  queueName: string;
  /** BullMQ key prefix, random per test. */
  prefix: string;
  connection: ConnectionOptions;
  queue: Queue;
  worker(processor: Processor, options?: Partial<WorkerOptions>): Worker;
  /** Registers anything with close() to be closed at the end of the test. */
  track<T extends { close(): Promise<unknown> }>(closable: T): T;
  close(): Promise<void>;
}

export function bullmqFixture(): BullmqFixture {
  const queueName = `q-${randomUUID().slice(0, 8)}`;
  const prefix = `b${randomUUID().slice(0, 8)}`;
  // Workers block on Redis: BullMQ requires maxRetriesPerRequest null on their connections.
  const connection: ConnectionOptions = { url: inject('redisUrl'), maxRetriesPerRequest: null };
  const closables: Array<{ close(): Promise<unknown> }> = [];
  const track = <T extends { close(): Promise<unknown> }>(closable: T): T => {
    closables.push(closable);
    return closable;
  };
  const queue = new Queue(queueName, { connection, prefix });
  return {
    queueName,
    prefix,
    connection,
    queue,
    track,
    worker: (processor, options = {}) => track(new Worker(queueName, processor, { connection, prefix, ...options })),
    async close() {
      // Newest first, then the queue's keys and the queue itself.
      for (const closable of closables.reverse()) await closable.close();
      await queue.obliterate({ force: true });
      await queue.close();
    },
  };
}
