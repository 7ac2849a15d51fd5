/** Metrics of session restore and outage repair (issue 7 items 1–3), on the gateway's registry. */
import { Counter, type Registry } from 'prom-client';

export interface DeliveryMetrics {
  /** Channel repairs after an engine link loss, by result: recovered (exact), resync (state + `resync` ack), failed. */
  repairs: Counter<'result'>;
  /** Task channels whose frames moved to a new epoch while live (history lost, e.g. FLUSHALL): a `resync` ack went out. */
  epochChanges: Counter;
  /** Task subscriptions restored from an `old_client_id` session. */
  restoredSubscriptions: Counter;
  /** Session saves (whole sessions written) by the periodic refresh and at close. */
  sessionSaves: Counter;
}

/** Registers the delivery metrics on `registry`. */
export function createDeliveryMetrics(registry: Registry): DeliveryMetrics {
  return {
    repairs: new Counter({
      name: 'taskpulse_gateway_channel_repairs_total',
      help: 'Task channel repairs after the engine link was lost, by result (recovered, resync, failed).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    epochChanges: new Counter({
      name: 'taskpulse_gateway_live_epoch_changes_total',
      help: 'Task channels whose live frames started a new epoch (history lost with no link loss); each sent a resync ack.',
      registers: [registry],
    }),
    restoredSubscriptions: new Counter({
      name: 'taskpulse_gateway_restored_subscriptions_total',
      help: 'Task subscriptions restored from a resumed session (old_client_id).',
      registers: [registry],
    }),
    sessionSaves: new Counter({
      name: 'taskpulse_gateway_session_saves_total',
      help: 'Connection sessions written to the engine (refresh and close).',
      registers: [registry],
    }),
  };
}
