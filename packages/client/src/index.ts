/** @taskpulse/client: follow taskpulse tasks live from a browser or Node (see the package README). */
export { connect, TaskpulseClient } from './client';
export type {
  ClientCounters,
  ClientEvents,
  ConnectedEvent,
  ConnectionState,
  ConnectionStateEvent,
  ConnectOptions,
  Identity,
  Unsubscribe,
  WebSocketConstructor,
  WebSocketLike,
} from './client';
export { reconnectDelay, DEFAULT_MAX_DELAY_MS, DEFAULT_MIN_DELAY_MS, type BackoffOptions } from './backoff';
export { TaskpulseError, type ClientErrorCode } from './errors';
export type { SubscribeAck, TaskHandlers } from './task-subscription';
export { TaskView, type TaskViewSnapshot } from './task-view';
export { httpBaseUrl, websocketUrl, WS_PATH } from './url';
export type { AckFrame, BroadcastFrame, ProgressFrame, StatusFrame, TaskStatus } from '@taskpulse/protocol';
