/** API keys: parsing API_KEYS / API_KEYS_FILE with ConfigErrors naming the variable, and lookup by hash. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@taskpulse/config';
import { thrown } from '@taskpulse/testkit';
import { hashApiKey, readApiKeys } from '../src/api-keys';

const KEYS = [
  { id: 'worker-a', sha256: hashApiKey('secret-a'), scopes: ['publish'] },
  { id: 'ops', sha256: hashApiKey('secret-ops').toUpperCase(), scopes: ['admin', 'read'] },
];

describe('readApiKeys', () => {
  it('finds a key by its secret, never by its hash or id, from API_KEYS or API_KEYS_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskpulse-keys-'));
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify(KEYS));
    for (const env of [{ API_KEYS: JSON.stringify(KEYS) }, { API_KEYS_FILE: file }]) {
      const keys = readApiKeys(env);
      expect(keys.find('secret-a')).toMatchObject({ id: 'worker-a', scopes: ['publish'] });
      expect(keys.find('secret-ops')).toMatchObject({ id: 'ops', scopes: ['admin', 'read'] });
      expect(keys.find('secret-b')).toBeUndefined();
      expect(keys.find(hashApiKey('secret-a'))).toBeUndefined();
      expect(keys.find('worker-a')).toBeUndefined();
      expect(keys.find('')).toBeUndefined();
    }
    expect(readApiKeys({}).entries).toEqual([]);
  });

  it.each([
    [{ API_KEYS: 'not json' }, 'API_KEYS', 'not JSON'],
    [{ API_KEYS: '{}' }, 'API_KEYS', 'not an array'],
    [{ API_KEYS: '[1]' }, 'API_KEYS', 'entry 0: not an object'],
    [{ API_KEYS: '[{"id":"a b","sha256":"' + 'a'.repeat(64) + '","scopes":["read"]}]' }, 'API_KEYS', 'entry 0: id must be'],
    [{ API_KEYS: '[{"id":"a","sha256":"abc","scopes":["read"]}]' }, 'API_KEYS', 'sha256 must be 64 hex digits'],
    [{ API_KEYS: '[{"id":"a","sha256":"' + 'a'.repeat(64) + '","scopes":["write"]}]' }, 'API_KEYS', 'scope "write" is not publish, read or admin'],
    [{ API_KEYS: '[{"id":"a","sha256":"' + 'a'.repeat(64) + '","scopes":[]}]' }, 'API_KEYS', 'scopes must be a non-empty array'],
    [{ API_KEYS: '[{"id":"a","sha256":"' + 'a'.repeat(64) + '","scopes":["read"],"key":"x"}]' }, 'API_KEYS', 'unknown field key'],
    [{ API_KEYS: JSON.stringify([KEYS[0], KEYS[0]]) }, 'API_KEYS', 'entry 1: id worker-a appears twice'],
    [{ API_KEYS: '[]', API_KEYS_FILE: '/x' }, 'API_KEYS_FILE', 'unset when API_KEYS is set'],
    [{ API_KEYS_FILE: '/nonexistent/keys.json' }, 'API_KEYS_FILE', 'a readable file (ENOENT)'],
  ])('%j → ConfigError naming %s', (env, variable, expected) => {
    const error = thrown(() => readApiKeys(env), ConfigError);
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(expected);
  });

  it('never echoes the API_KEYS value in its error', () => {
    const error = thrown(() => readApiKeys({ API_KEYS: '[{"id":"a","sha256":"zz-secretish","scopes":["read"]}]' }), ConfigError);
    expect(error.message).not.toContain('zz-secretish');
  });
});
