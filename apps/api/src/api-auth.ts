/**
 * Who may call the API, as the routes see it: the auth mode, the publish API keys, and (jwt mode) a
 * verifier of bearer tokens with the per-task rule. The verifier is an interface of the API's own, so the
 * routes do not depend on how tokens are checked (packages/auth's jose verifier in main.ts; tests may
 * hand in their own).
 */
import { createApiKeyRegistry, type ApiKeyRegistry } from '@taskpulse/auth';

/** `insecure`: everything open, as in the guide. `jwt`: API keys for writes and admin, bearer tokens or keys for reads. */
export type ApiAuthMode = 'jwt' | 'insecure';

/** What a valid bearer token says about its holder. */
export interface BearerIdentity {
  subject: string;
  userId: string;
  /** Every project of the token (`project_id` and `projects`). */
  projects: readonly string[];
  /** Tasks the token grants explicitly (`tasks` claim). */
  tasks: readonly string[];
  /** Expiry, ms since the epoch. */
  expiresAt?: number;
}

/** Checks a bearer token; rejects (with a `reason` when it has one) when the token is not valid. */
export interface BearerVerifier {
  verify(token: string): Promise<BearerIdentity>;
}

/** The user and project a task was started for (from its snapshot). */
export interface TaskOwner {
  userId?: string;
  projectId?: string;
}

/** True when `identity` may see `taskId` owned by `owner`. */
export type TaskAccessRule = (identity: BearerIdentity, owner: TaskOwner, taskId: string) => boolean;

export interface ApiAuth {
  mode: ApiAuthMode;
  apiKeys: ApiKeyRegistry;
  /** Required in jwt mode for bearer reads; without it, reads need an API key with the read scope. */
  verifier?: BearerVerifier;
  /** Default: ownTaskRule. */
  mayAccessTask?: TaskAccessRule;
}

/** The rule: the task's user is the token's user, or its project one of the token's, or the token names the task. */
export const ownTaskRule: TaskAccessRule = (identity, owner, taskId) =>
  identity.tasks.includes(taskId) ||
  (owner.userId !== undefined && owner.userId === identity.userId) ||
  (owner.projectId !== undefined && identity.projects.includes(owner.projectId));

/** The guide's open API (npm start, tests that are not about auth). */
export const INSECURE_AUTH: ApiAuth = { mode: 'insecure', apiKeys: createApiKeyRegistry([]) };
