/**
 * The README's configuration reference against the loaders: the section is exactly what the generator
 * renders from them, every variable a loader touches is described by its reader, and every variable has
 * a note (and no note outlives its variable).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, describingEnv } from '@taskpulse/config';
import { BEGIN, END, NOTES, PROCESSES, collectReference, renderConfigReference } from '../../scripts/config-reference';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('configuration reference', () => {
  it('is in the README exactly as the loaders describe it (npm run docs:config rewrites it)', () => {
    const section = readme.slice(readme.indexOf(BEGIN) + BEGIN.length, readme.indexOf(END));
    expect(section.trim()).toBe(renderConfigReference().trim());
  });

  it('lists every variable a loader reads, in jwt and insecure mode', () => {
    const described = new Set(collectReference().map((row) => row.name));
    for (const { name, load } of PROCESSES) {
      for (const values of [
        { REDIS_URL: 'redis://127.0.0.1:6379', AUTH_MODE: 'insecure' },
        { REDIS_URL: 'redis://127.0.0.1:6379', AUTH_MODE: 'jwt', JWT_JWKS_URL: 'https://issuer.example.com/jwks.json' },
      ]) {
        const read = new Set<string>();
        const { env } = describingEnv(values);
        load(new Proxy(env, { get: (target, key) => (typeof key === 'string' && read.add(key), Reflect.get(target, key)) }));
        for (const variable of read) expect(described.has(variable), `${name} reads ${variable}, which the reference lacks`).toBe(true);
      }
    }
  });

  it('has a note for every variable and none for a variable no loader reads', () => {
    const names = collectReference().map((row) => row.name).sort();
    expect(Object.keys(NOTES).sort()).toEqual(names);
  });

  it("states each integer variable's range as the loader's error does", () => {
    for (const row of collectReference()) {
      for (const [processName, form] of row.forms) {
        if (!form.startsWith('a whole number')) continue;
        const { load } = PROCESSES.find((p) => p.name === processName)!;
        const env = { REDIS_URL: 'redis://127.0.0.1:6379', AUTH_MODE: 'insecure', [row.name]: 'many' };
        let error: unknown;
        try {
          load(env);
        } catch (caught) {
          error = caught;
        }
        expect(error, `${processName} ${row.name}`).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).variable).toBe(row.name);
        if (!form.includes('MAX_BACKPRESSURE_BYTES')) expect((error as ConfigError).expected).toBe(form);
      }
    }
  });
});
