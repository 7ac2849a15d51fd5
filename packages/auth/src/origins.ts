/** The WebSocket Origin check (the guide's CheckOrigin advice), from ALLOWED_ORIGINS. */
import type { AuthSettings } from './auth-config';

/**
 * True when a request with this Origin header may connect. No Origin means a non-browser client (browsers
 * always send one on a WebSocket upgrade), which the check cannot and need not stop: tokens do that.
 */
export function originAllowed(settings: Pick<AuthSettings, 'allowedOrigins'>, origin: string | undefined): boolean {
  if (origin === undefined || origin === '') return true;
  const allowed = settings.allowedOrigins;
  return allowed.includes('*') || allowed.includes(origin.toLowerCase());
}
