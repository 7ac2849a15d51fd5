/**
 * The client side of one pass: load-generator and publisher processes, separate from the servers, each
 * dialled into the control hub. Work is dealt round-robin: connection `i` goes to load generator `i % L`,
 * task `j` to publisher `j % P`, so every broadcast audience and every task's subscribers are spread over
 * all load generators (a 1,000-connection broadcast must not queue behind one client process).
 */
import { startTsProcess, type ManagedProcess } from '@taskpulse/testkit';
import { nowMicros, sleep } from '../clock';
import type { ControlHub, ControlPeer } from '../control/control-hub';
import type { CollectResult, ConnectResult, ConnSpec, LoadgenCommands, PublisherCommands } from '../control/commands';
import type { TrackedProcess } from '../proc/cpu-meter';
import type { SystemName } from '../publisher/sender';
import { repoFile } from '../systems/system';

/** Which system the publishers feed, and how many of each process. */
export interface FleetOptions {
  hub: ControlHub;
  tag: string;
  system: SystemName;
  redisUrl: string;
  prefix: string;
  loadgens: number;
  publishers: number;
}

interface Member<C extends Record<string, { args: unknown; result: unknown }>> {
  name: string;
  proc: ManagedProcess;
  peer: ControlPeer<C>;
}

async function launch<C extends Record<string, { args: unknown; result: unknown }>>(
  hub: ControlHub,
  name: string,
  file: string,
  env: Record<string, string>,
): Promise<Member<C>> {
  const proc = startTsProcess(repoFile(file).path, { ...env, CONTROL_URL: hub.url, CONTROL_NAME: name });
  // Whichever comes first: the child dials in, or it exits (waitForOutput rejects with its output).
  const exited = proc.waitForOutput(/(?!)/, 60_000).then(() => {
    throw new Error(`${name} stopped`);
  });
  const peer = await Promise.race([hub.peer<C>(name, 60_000), exited]);
  return { name, proc, peer };
}

/** The load generators and publishers of one pass. */
export class Fleet {
  private constructor(
    private hub: ControlHub,
    readonly loadgens: Array<Member<LoadgenCommands>>,
    readonly publishers: Array<Member<PublisherCommands>>,
  ) {}

  static async start(o: FleetOptions): Promise<Fleet> {
    const lgs = Array.from({ length: o.loadgens }, (_, k) => launch<LoadgenCommands>(o.hub, `${o.tag}-lg${k}`, 'bench/src/loadgen/loadgen-process.ts', {}));
    const env = { SYSTEM: o.system, REDIS_URL: o.redisUrl, KEY_PREFIX: o.prefix };
    const pubs = Array.from({ length: o.publishers }, (_, k) =>
      launch<PublisherCommands>(o.hub, `${o.tag}-pub${k}`, 'bench/src/publisher/publisher-process.ts', env),
    );
    const all = await Promise.allSettled([...lgs, ...pubs]);
    const failed = all.find((r) => r.status === 'rejected');
    const members = all.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (failed) {
      await Promise.all(members.map((m) => m.proc.kill()));
      throw (failed as PromiseRejectedResult).reason;
    }
    const loadgens = members.filter((m) => m.name.includes('-lg')) as Array<Member<LoadgenCommands>>;
    const publishers = members.filter((m) => m.name.includes('-pub')) as Array<Member<PublisherCommands>>;
    return new Fleet(o.hub, loadgens, publishers);
  }

  get processes(): TrackedProcess[] {
    return [
      ...this.loadgens.map((m, k): TrackedProcess => ({ label: `loadgen${k}`, group: 'loadgen', pid: m.proc.child.pid! })),
      ...this.publishers.map((m, k): TrackedProcess => ({ label: `publisher${k}`, group: 'publisher', pid: m.proc.child.pid! })),
    ];
  }

  /** Opens `conns` spread over the load generators, each from its own loopback address. */
  async connect(
    wire: LoadgenCommands['connect']['args']['wire'],
    nodes: string[],
    conns: ConnSpec[],
    concurrency: number,
    timeoutMs: number,
    deadlineMs: number,
  ): Promise<ConnectResult> {
    const n = this.loadgens.length;
    const shares = this.loadgens.map((_, k) => conns.filter((_c, i) => i % n === k));
    const results = await Promise.all(
      this.loadgens.map((m, k) =>
        m.peer.call('connect', { wire, nodes, conns: shares[k]!, concurrency, localAddress: `127.0.0.${10 + k}`, timeoutMs, deadlineMs }, deadlineMs + timeoutMs + 30_000),
      ),
    );
    return {
      opened: results.reduce((a, r) => a + r.opened, 0),
      failed: results.reduce((a, r) => a + r.failed, 0),
      errors: results.flatMap((r) => r.errors).slice(0, 5),
      elapsedMs: Math.max(...results.map((r) => r.elapsedMs)),
    };
  }

  measure(mode: 'stream' | 'probe' | 'off', start: number, end: number): Promise<unknown> {
    return Promise.all(this.loadgens.map((m) => m.peer.call('measure', { mode, start, end })));
  }

  collect(): Promise<CollectResult[]> {
    return Promise.all(this.loadgens.map((m) => m.peer.call('collect', null)));
  }

  /**
   * Waits (at most `maxMs`) until no marked frame arrives for one poll interval, so a backlog left by a
   * saturated level does not spill into the next measurement.
   */
  async quiesce(maxMs = 8000, everyMs = 300): Promise<number> {
    const t0 = performance.now();
    await this.measure('stream', nowMicros(), nowMicros() + 3600e6);
    let last = -1;
    for (;;) {
      await sleep(everyMs);
      const received = (await this.collect()).reduce((a, c) => a + c.receivedInWindow, 0);
      if (received === last || performance.now() - t0 > maxMs) break;
      last = received;
    }
    await this.measure('off', 0, 0);
    return Math.round(performance.now() - t0);
  }

  async closeAll(): Promise<number> {
    const results = await Promise.all(this.loadgens.map((m) => m.peer.call('closeAll', null)));
    return results.reduce((a, r) => a + r.closed, 0);
  }

  async stop(): Promise<void> {
    for (const m of [...this.loadgens, ...this.publishers]) this.hub.forget(m.name);
    await Promise.all([...this.loadgens, ...this.publishers].map((m) => m.proc.stop(3000)));
  }
}
