/** `--name=value` (or a bare `--flag`, read as 'true') options of a standalone bench script, by name. */
export function scriptArgs(argv: readonly string[] = process.argv.slice(2)): Record<string, string> {
  return Object.fromEntries(
    argv.map((arg) => {
      const [name, value] = arg.replace(/^--/, '').split('=');
      return [name!, value ?? 'true'];
    }),
  );
}
