/**
 * `taskpulse <command>`: today one command, `tail`. Returns the exit code (the bin sets it), so tests can
 * run it in process too; usage errors exit 2.
 */
import { parseArgs } from 'node:util';
import { tail, type TailOptions } from './tail';

export const USAGE = `usage: taskpulse tail <task_id> [--url http://localhost:8080] [--token <jwt>] [--user <user_id>] [--project <project_id>] [--json]

  Prints the task's state, then its live progress (bar, step, message, ETA) until it ends.
  --url      the server's base URL (http or https; the WebSocket URL derives from it), or its ws(s) URL
  --token    a JWT for AUTH_MODE=jwt (default: $TASKPULSE_TOKEN)
  --user, --project   the guide's identity for AUTH_MODE=insecure
  --json     one frame per line, as received, for scripts
exit codes: 0 completed, 1 failed or cancelled, 2 usage or connection error`;

/** Runs the command line `args` (without node and the script); resolves with the exit code. */
export async function main(args: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        url: { type: 'string', default: 'http://localhost:8080' },
        token: { type: 'string' },
        user: { type: 'string' },
        project: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    err.write(`taskpulse: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out.write(`${USAGE}\n`);
    return 0;
  }
  const [command, taskId, ...rest] = positionals;
  if (command !== 'tail' || taskId === undefined || rest.length > 0) {
    err.write(`taskpulse: ${command === undefined ? 'a command is required' : command !== 'tail' ? `unknown command ${JSON.stringify(command)}` : taskId === undefined ? 'tail needs a task id' : `unexpected argument ${JSON.stringify(rest[0])}`}\n${USAGE}\n`);
    return 2;
  }
  const token = values.token ?? process.env.TASKPULSE_TOKEN;
  const options: TailOptions = { url: values.url, taskId, json: values.json, out, err };
  if (token !== undefined && token !== '') options.token = token;
  if (values.user !== undefined) options.userId = values.user;
  if (values.project !== undefined) options.projectId = values.project;
  return tail(options);
}
