/** The WebSocket URL of a taskpulse server from whatever the caller has: a ws(s) URL or the server's http(s) base URL. */

/** The path the gateway serves WebSockets on. */
export const WS_PATH = '/api/v1/ws';

/**
 * `ws://host/api/v1/ws` from `http://host` (or `https://` → `wss://`); a `ws://`/`wss://` URL is kept as it is
 * (its path too, for a gateway behind a prefix). `base` resolves relative URLs (a page passes `location.href`).
 */
export function websocketUrl(url: string, base?: string): URL {
  const parsed = base === undefined ? new URL(url) : new URL(url, base);
  if (parsed.protocol === 'ws:' || parsed.protocol === 'wss:') return parsed;
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`the server URL must start with ws://, wss://, http:// or https://, got ${JSON.stringify(url)}`);
  }
  const ws = new URL(WS_PATH, parsed);
  ws.protocol = parsed.protocol === 'https:' ? 'wss:' : 'ws:';
  return ws;
}

/** The http(s) base URL for REST calls from a ws(s) or http(s) URL (the origin). */
export function httpBaseUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol === 'ws:') parsed.protocol = 'http:';
  else if (parsed.protocol === 'wss:') parsed.protocol = 'https:';
  return parsed.origin;
}
