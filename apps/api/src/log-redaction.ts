/**
 * What never reaches a log line: tokens, API keys and cookies in headers, and `token=` in a URL's query.
 * The API logs no request lines (disableRequestLogging) and never logs bodies; these options are the
 * second line of defence for a log call that passes a request, its headers or its URL.
 */
import type { LoggerOptions } from 'pino';

/** pino redact paths: the credential headers wherever a request or its headers are logged. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
];

/** The URL with the value of every `token`, `access_token` or `api_key` query parameter replaced. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|access_token|api_key)=)[^&#]*/gi, '$1[redacted]');
}

/** pino options for the API's logger: redaction, and a request serializer that keeps only method and a redacted URL. */
export function apiLoggerOptions(): Pick<LoggerOptions, 'redact' | 'serializers'> {
  return {
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: { method?: string; url?: string }) => ({ method: req.method, url: redactUrl(String(req.url ?? '')) }),
    },
  };
}
