/**
 * The one registry of error codes (in `error` frames and HTTP error bodies) and WebSocket close codes.
 * Close codes 4000-4499 mean "reconnect and resume"; 4500-4999 mean "do not reconnect as you are".
 */

export const ERROR_CODES = {
  bad_request: 'the frame or body is malformed or a field is invalid',
  unknown_action: 'the action is not subscribe or unsubscribe',
  not_found: 'no such task',
  forbidden: 'not allowed for this connection',
  too_many_subscriptions: 'the connection holds the maximum number of subscriptions',
  rate_limited: 'too many frames in a short time',
  task_finished: 'the task has finished; start it again before reporting progress',
  unavailable: 'the engine is not reachable; try again',
  internal: 'an unexpected server error',
  unauthorized: 'no valid credentials (token or API key) were presented',
  frame_too_large: 'the client frame is over the size limit; it was ignored',
  too_many_connections: 'the user holds the maximum number of connections on this node',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export const CLOSE_CODES = {
  /** Server is draining (rolling update): reconnect, to another node. */
  drain: 1012,
  /** The client could not keep up (send buffer full): reconnect and resume. */
  slow_consumer: 4000,
  /** No pong within the idle timeout: reconnect and resume. */
  heartbeat_lost: 4001,
  /** A client frame over the hard size cap (after the queued frames were flushed). */
  message_too_big: 1009,
  /** The connection's identity was rejected: do not reconnect with the same parameters. */
  bad_identity: 4500,
  /** The client broke the protocol repeatedly: do not reconnect as you are. */
  policy_violation: 4501,
  /** The connection's token expired without a refresh: get a new token, then reconnect. */
  token_expired: 4502,
} as const;

export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];

/** True when a client that was closed with this code should reconnect and resume. */
export function shouldReconnect(code: number): boolean {
  return code === CLOSE_CODES.drain || (code >= 4000 && code < 4500) || code < 4000;
}
