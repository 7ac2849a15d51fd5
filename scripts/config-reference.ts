/**
 * The README's configuration reference, generated from the loaders that validate the variables: each
 * process's loader runs on a describing environment (packages/config describe.ts) in insecure and in jwt
 * mode, and every variable it reads is listed with its form and default as the readers know them. The
 * notes (what a variable is for) are the only hand-written part; the test fails when a note is missing or
 * names a variable no loader reads, and when the README's section differs from this output.
 *
 * `npm run docs:config` rewrites the section between the markers in README.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describingEnv, type Env, type VariableDescription } from '@taskpulse/config';
import { loadApiConfig } from '../apps/api/src/config';
import { loadGatewayConfig } from '../apps/gateway/src/config';
import { loadWorkerConfig } from '../apps/worker/src/config';

/** The cluster's processes and the loader each entry point runs. */
export const PROCESSES: ReadonlyArray<{ name: string; load: (env: Env) => unknown }> = [
  { name: 'gateway', load: loadGatewayConfig },
  { name: 'api', load: (env) => loadApiConfig(env, { requireRedis: true }) },
  { name: 'worker', load: loadWorkerConfig },
];

const MODES: ReadonlyArray<{ mode: string; env: Env }> = [
  { mode: 'insecure', env: { REDIS_URL: 'redis://127.0.0.1:6379', AUTH_MODE: 'insecure' } },
  { mode: 'jwt', env: { REDIS_URL: 'redis://127.0.0.1:6379', AUTH_MODE: 'jwt', JWT_SECRET: 's'.repeat(32) } },
];

/** What each variable is for: the one hand-written column. */
export const NOTES: Record<string, string> = {
  REDIS_URL: 'the Redis every process shares (engine, pub/sub, BullMQ); `redis+cluster://host1:6379,host2:6379` for a Redis Cluster',
  AUTH_MODE: '`jwt`: identity from a verified token; `insecure`: from query parameters (the guide)',
  ALLOWED_ORIGINS: 'browser origins allowed to connect; empty allows only clients that send no Origin',
  JWT_SECRET: 'HS256 key of the tokens',
  JWT_PUBLIC_KEY: 'RS256/ES256 public key of the tokens',
  JWT_JWKS_URL: 'where the token keys are fetched (cached)',
  JWT_ISSUER: 'required `iss` of tokens, when set',
  JWT_AUDIENCE: 'required `aud` of tokens, when set',
  PORT: 'HTTP and WebSocket port (the API: HTTP)',
  HOST: 'interface to listen on (the worker: for its metrics port)',
  KEY_PREFIX: 'prefix of every Redis key and channel; the same in every process of a cluster',
  HEARTBEAT_INTERVAL_MS: 'how often a gateway reports its node and connection counts',
  MAX_BACKPRESSURE_BYTES: 'unsent bytes past which a socket is closed as a slow consumer (4000)',
  SESSION_TTL_SECONDS: 'how long a closed connection\'s session (its subscriptions) waits for a resume',
  SESSION_REFRESH_MS: 'how often live sessions are saved (bounds what a restore after a crash repeats)',
  CLIENT_FRAME_HARD_CAP_BYTES: 'a client frame larger than this closes the connection (1009)',
  PING_INTERVAL_SECONDS: 'ping interval; a peer silent for two intervals is closed (4001)',
  LOG_LEVEL: 'pino log level',
  MAX_CONNECTIONS_PER_USER: 'open connections per user id on one node (0: no limit)',
  SOFT_BACKPRESSURE_BYTES: 'unsent bytes past which a socket\'s progress frames are conflated',
  NODE_ID: 'the node\'s id in stats and sessions; unset: host name plus a random suffix',
  DEMO_QUEUE: 'BullMQ queue `POST /api/v1/demo/jobs` enqueues to',
  BRIDGE_QUEUES: 'queues of plain BullMQ jobs the API\'s bridge reports as tasks',
  CLEANUP_INTERVAL_MS: 'how often expired tasks leave the status index',
  API_KEYS: 'publish/read/admin keys, as SHA-256 hashes',
  API_KEYS_FILE: 'the same JSON from a file',
  API_RATE_LIMIT_PER_MINUTE: 'requests per minute per API key or client IP (0: off)',
  API_BODY_LIMIT_BYTES: 'largest request body',
  QUEUE_NAME: 'BullMQ queue the demo worker consumes',
  CONCURRENCY: 'jobs the worker runs at once',
  STEP_DELAY_MS: 'how long each demo step sleeps',
  METRICS_PORT: 'port of the worker\'s /metrics, /healthz and /readyz (0: any free port)',
};

/** One row of the reference. */
export interface ReferenceRow {
  name: string;
  processes: string[];
  /** Form by process (the same for most). */
  forms: Map<string, string>;
  /** Default by process and auth mode (they differ for a few variables). */
  fallbacks: Map<string, Map<string, string | undefined>>;
  required: boolean;
}

/** Runs every loader in every mode and merges what the readers described, in reading order. */
export function collectReference(): ReferenceRow[] {
  const rows = new Map<string, ReferenceRow>();
  for (const { name: processName, load } of PROCESSES) {
    for (const { mode, env: values } of MODES) {
      const { env, described } = describingEnv(values);
      load(env);
      const seen = new Set<string>();
      for (const variable of described) {
        if (seen.has(variable.name)) continue; // a reader built on another describes once, first one wins
        seen.add(variable.name);
        merge(rows, processName, mode, variable);
      }
    }
  }
  return [...rows.values()];
}

function merge(rows: Map<string, ReferenceRow>, processName: string, mode: string, variable: VariableDescription): void {
  let row = rows.get(variable.name);
  if (row === undefined) {
    row = { name: variable.name, processes: [], forms: new Map(), fallbacks: new Map(), required: variable.required };
    rows.set(variable.name, row);
  }
  if (!row.processes.includes(processName)) row.processes.push(processName);
  if (!row.forms.has(processName)) row.forms.set(processName, variable.form);
  const byMode = row.fallbacks.get(processName) ?? new Map<string, string | undefined>();
  row.fallbacks.set(processName, byMode);
  if (!byMode.has(mode)) byMode.set(mode, variable.fallback);
  row.required ||= variable.required;
}

const valueText = (value: string | undefined) => (value === undefined ? 'unset' : value === '' ? 'empty' : `\`${value}\``);

/** One text when every key agrees, else `key: text` pairs. */
function perKey<T>(entries: ReadonlyArray<[string, T]>, text: (value: T) => string): string {
  const texts = entries.map(([key, value]) => [key, text(value)] as const);
  if (new Set(texts.map(([, t]) => t)).size === 1) return texts[0]![1];
  return texts.map(([key, t]) => `${key}: ${t}`).join('; ');
}

function defaultText(row: ReferenceRow): string {
  if (row.required) return 'required';
  return perKey([...row.fallbacks], (byMode) => perKey([...byMode], valueText));
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The README section's body, as markdown. */
export function renderConfigReference(): string {
  const rows = collectReference();
  const lines = [
    '| variable | read by | default | form | what it is for |',
    '|---|---|---|---|---|',
    ...rows.map((row) => `| \`${row.name}\` | ${row.processes.join(', ')} | ${cell(defaultText(row))} | ${cell(perKey([...row.forms], (form) => form))} | ${cell(NOTES[row.name] ?? '')} |`),
  ];
  return [
    '<!-- Generated by `npm run docs:config` (scripts/config-reference.ts) from the loaders; do not edit by hand. -->',
    '',
    ...lines,
    '',
    '`npm start` reads the gateway\'s and the API\'s variables and `CONCURRENCY` and `STEP_DELAY_MS`, with `REDIS_URL`',
    'optional (unset: the memory engine), `AUTH_MODE` defaulting to `insecure` and `PORT` to 8080; it serves its',
    'metrics on that port.',
  ].join('\n');
}

export const BEGIN = '<!-- config-reference:begin -->';
export const END = '<!-- config-reference:end -->';

/** README text with the section between the markers replaced by `body`. */
export function withReference(readme: string, body: string): string {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`README.md has no ${BEGIN} … ${END} section`);
  return `${readme.slice(0, begin + BEGIN.length)}\n${body}\n${readme.slice(end)}`;
}

if (process.argv.includes('--write')) {
  const path = new URL('../README.md', import.meta.url).pathname;
  const before = readFileSync(path, 'utf8');
  const after = withReference(before, renderConfigReference());
  if (after !== before) writeFileSync(path, after);
  process.stdout.write(after === before ? 'README.md: configuration reference up to date\n' : 'README.md: configuration reference rewritten\n');
}
