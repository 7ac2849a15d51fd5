/**
 * Publish API keys: who may call the API's publish, broadcast, demo, read and admin endpoints in jwt mode.
 * Keys are configured only as SHA-256 hashes (`API_KEYS` JSON or `API_KEYS_FILE`, a path to the same JSON):
 * `[{"id":"worker-a","sha256":"<64 hex>","scopes":["publish"]}]`. A presented key is hashed and compared
 * with every configured hash in constant time, so neither the key nor its position leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, describeVariable, readRaw, type Env } from '@taskpulse/config';

/** What a key may do: `publish` (report and broadcast, demo jobs), `read` (REST reads of any task), `admin` (stats). */
export const API_KEY_SCOPES = ['publish', 'read', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** One configured key: its id (logged, used as the rate-limit key), its hash, its scopes. */
export interface ApiKeyEntry {
  readonly id: string;
  readonly sha256: string;
  readonly scopes: readonly ApiKeyScope[];
}

/** The configured keys; `find` answers which key a presented secret is, if any. */
export interface ApiKeyRegistry {
  readonly entries: readonly ApiKeyEntry[];
  /** The entry whose hash matches `presented`, or undefined (constant time in the number of keys). */
  find(presented: string): ApiKeyEntry | undefined;
}

const ID = /^[A-Za-z0-9_.:@-]{1,64}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const FORM =
  'a JSON array like [{"id":"worker-a","sha256":"<64 hex digits: sha256 of the key>","scopes":["publish"]}] (scopes publish, read, admin)';

/** The lowercase hex SHA-256 of a key: what `API_KEYS` stores (`printf %s "$KEY" | sha256sum`). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A registry over already validated entries. */
export function createApiKeyRegistry(entries: readonly ApiKeyEntry[]): ApiKeyRegistry {
  const hashes = entries.map((entry) => Buffer.from(entry.sha256, 'hex'));
  return {
    entries,
    find(presented) {
      const digest = createHash('sha256').update(presented, 'utf8').digest();
      let found: ApiKeyEntry | undefined;
      // Compare with every hash (no early exit), so the time says nothing about which one matched.
      hashes.forEach((hash, index) => {
        if (timingSafeEqual(hash, digest) && found === undefined) found = entries[index];
      });
      return found;
    },
  };
}

/** Checks the parsed JSON entry by entry; the ConfigError names `variable` and the bad entry. */
export function parseApiKeys(variable: string, text: string, shown: string = text): ApiKeyEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(variable, `${FORM} (not JSON: ${(error as Error).message})`, shown);
  }
  if (!Array.isArray(parsed)) throw new ConfigError(variable, `${FORM} (not an array)`, shown);
  const ids = new Set<string>();
  return parsed.map((item: unknown, index) => {
    const bad = (why: string) => new ConfigError(variable, `${FORM} (entry ${index}: ${why})`, shown);
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw bad('not an object');
    const { id, sha256, scopes, ...rest } = item as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) throw bad(`unknown field ${unknown[0]}`);
    if (typeof id !== 'string' || !ID.test(id)) throw bad('id must be 1-64 letters, digits or _ . : @ -');
    if (ids.has(id)) throw bad(`id ${id} appears twice`);
    ids.add(id);
    if (typeof sha256 !== 'string' || !HEX64.test(sha256.toLowerCase())) throw bad('sha256 must be 64 hex digits');
    if (!Array.isArray(scopes) || scopes.length === 0) throw bad('scopes must be a non-empty array');
    for (const scope of scopes) {
      if (!(API_KEY_SCOPES as readonly unknown[]).includes(scope)) throw bad(`scope ${JSON.stringify(scope)} is not publish, read or admin`);
    }
    return { id, sha256: sha256.toLowerCase(), scopes: [...new Set(scopes as ApiKeyScope[])] };
  });
}

/**
 * The keys from `API_KEYS` (JSON) or `API_KEYS_FILE` (a path to the JSON); none when both are unset.
 * Setting both is refused (which one wins would be a guess). Errors never echo a file's content.
 */
export function readApiKeys(env: Env): ApiKeyRegistry {
  describeVariable(env, 'API_KEYS', `${FORM}; or use API_KEYS_FILE`);
  describeVariable(env, 'API_KEYS_FILE', 'a path to a file holding the API_KEYS JSON (a mounted Secret); not with API_KEYS');
  const inline = readRaw(env, 'API_KEYS');
  const file = readRaw(env, 'API_KEYS_FILE');
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError('API_KEYS_FILE', 'unset when API_KEYS is set (use one of them)', file);
  }
  if (inline !== undefined) return createApiKeyRegistry(parseApiKeys('API_KEYS', inline, '<API_KEYS value>'));
  if (file === undefined) return createApiKeyRegistry([]);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError('API_KEYS_FILE', `a readable file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, file);
  }
  return createApiKeyRegistry(parseApiKeys('API_KEYS_FILE', text, file));
}
