/**
 * Mints an HS256 test token with the deployment's JWT_SECRET (and JWT_ISSUER / JWT_AUDIENCE when set), for
 * trying a jwt-mode cluster by hand. Prints only the token, so it composes with `$(…)`:
 *
 *   JWT_SECRET=… node --import tsx packages/auth/src/mint-token-cli.ts sub=user-123 project_id=p1 tasks=t1,t2 ttl=3600
 *
 * Production tokens come from your identity provider; this is for tests and demos.
 */
import { SignJWT } from 'jose';
import { ConfigError, configOrExit, readInt, readRaw, readString } from '@taskpulse/config';
import { MIN_SECRET_BYTES } from './auth-config';

const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.split(/=(.*)/s).slice(0, 2) as [string, string]));
const config = configOrExit('mint-token', () => ({
  secret: readSecret(),
  issuer: readString(process.env, 'JWT_ISSUER'),
  audience: readString(process.env, 'JWT_AUDIENCE'),
  ttlSeconds: readInt(args, 'ttl', 3600, 1, 30 * 86_400),
}));
if (config.secret === undefined || args.sub === undefined) {
  process.stderr.write('usage: JWT_SECRET=… mint-token-cli.ts sub=<user id> [project_id=…] [projects=a,b] [tasks=t1,t2] [ttl=seconds]\n');
  process.exit(2);
}
/** JWT_SECRET, checked like the gateway checks it; the error never shows the value. */
function readSecret(): string | undefined {
  const secret = readRaw(process.env, 'JWT_SECRET');
  const bytes = secret === undefined ? 0 : Buffer.byteLength(secret);
  if (secret !== undefined && bytes < MIN_SECRET_BYTES) throw new ConfigError('JWT_SECRET', `at least ${MIN_SECRET_BYTES} bytes for HS256`, `${bytes} bytes`);
  return secret;
}

const list = (value: string | undefined) => (value === undefined ? undefined : value.split(',').filter(Boolean));
const claims = { project_id: args.project_id, projects: list(args.projects), tasks: list(args.tasks) };
const jwt = new SignJWT(JSON.parse(JSON.stringify(claims)) as Record<string, unknown>)
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject(args.sub)
  .setIssuedAt()
  .setExpirationTime(Math.floor(Date.now() / 1000) + config.ttlSeconds);
if (config.issuer !== undefined) jwt.setIssuer(config.issuer);
if (config.audience !== undefined) jwt.setAudience(config.audience);
process.stdout.write(`${await jwt.sign(new TextEncoder().encode(config.secret))}\n`);
