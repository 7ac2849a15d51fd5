/**
 * Engines from role objects. The role methods of an engine are bound from the object that plays the role,
 * so an engine class holds no one-line forwarders, and one role can be replaced alone: a Cluster task store,
 * or a presence store for sessions, composed with the other roles of an existing engine.
 */
import type { Engine, EngineRoles, EngineStatus, NodeRegistry, PubSub, SessionStore, TaskStore } from './engine';

/** Each role's methods. */
const ROLE_METHODS = {
  tasks: ['publish', 'latest', 'snapshot', 'history', 'replay', 'stats', 'cleanupOldHistory'],
  channels: ['subscribe', 'unsubscribe', 'broadcast', 'onLinkChange'],
  nodes: ['reportNode', 'removeNode', 'connectionStats'],
  sessions: ['saveSession', 'saveSessions', 'touchSessions', 'loadSession'],
} as const satisfies { [Role in keyof EngineRoles]: ReadonlyArray<keyof EngineRoles[Role]> };

/** A role member missing from ROLE_METHODS; `never` while the lists are complete. */
type Unlisted = { [Role in keyof EngineRoles]: Exclude<keyof EngineRoles[Role], (typeof ROLE_METHODS)[Role][number]> }[keyof EngineRoles];
// Stops compiling (naming the member) when a role gains a method that is not listed above.
const everyMethodListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyMethodListed;

/** The methods of all four roles. */
export type RoleMethods = TaskStore & PubSub & NodeRegistry & SessionStore;

/** The methods of the four roles, each bound to the object playing its role. */
export function bindRoles(roles: EngineRoles): RoleMethods {
  const methods: Record<string, unknown> = {};
  for (const role of Object.keys(ROLE_METHODS) as Array<keyof EngineRoles>) {
    const player = roles[role] as unknown as Record<string, unknown>;
    for (const name of ROLE_METHODS[role]) {
      const method = player[name];
      if (typeof method !== 'function') throw new TypeError(`the object playing the ${role} role has no method ${name}`);
      methods[name] = method.bind(player);
    }
  }
  return methods as unknown as RoleMethods;
}

/**
 * An engine from its status (kind, prefix, readiness, close) and the four roles. An existing engine plays
 * every role, so `composeEngine(redis, { tasks: redis, channels: redis, nodes: redis, sessions: presence })`
 * replaces only the sessions.
 */
export function composeEngine(status: EngineStatus, roles: EngineRoles): Engine {
  return {
    kind: status.kind,
    prefix: status.prefix,
    isReady: () => status.isReady(),
    close: () => status.close(),
    ...bindRoles(roles),
  };
}
