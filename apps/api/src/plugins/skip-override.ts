/**
 * Marks a plugin so that its decorators and hooks reach the instance that registers it (what the
 * fastify-plugin package does, without the dependency).
 */
export function shared<T extends (...args: never[]) => unknown>(plugin: T): T {
  Object.assign(plugin, { [Symbol.for('skip-override')]: true });
  return plugin;
}
