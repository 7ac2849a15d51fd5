/**
 * A private nginx in front of the gateways, as a load balancer would be in production: its own config,
 * pid, logs and temp paths in a temp directory, `daemon off` as a child process of the test, on a free
 * 127.0.0.1 port. WebSocket upgrades pass through with long read timeouts; a dead gateway is skipped
 * for new connections (`proxy_next_upstream`). `X-Upstream` on the 101 response names the gateway chosen.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '@taskpulse/testkit';

export interface Nginx {
  port: number;
  /** ws://127.0.0.1:<port> */
  wsBase: string;
  /** Its error log so far, for failure messages. */
  errorLog(): string;
  stop(): Promise<void>;
}

function which(binary: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/**
 * The path of nginx, installed with apt-get when missing and we are root; '' when it is missing and
 * cannot be installed (the failure test then skips, saying so).
 */
export function ensureNginx(): string {
  const found = which('nginx') || (which('/usr/sbin/nginx') ? '/usr/sbin/nginx' : '');
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !which('apt-get')) return '';
  process.stderr.write('nginx is missing: installing it with apt-get (Debian package nginx)\n');
  execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx'], { stdio: 'inherit' });
  return which('nginx') || (which('/usr/sbin/nginx') ? '/usr/sbin/nginx' : '');
}

function config(dir: string, port: number, upstreams: number[]): string {
  const servers = upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join('\n');
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream gateways {
${servers}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_connect_timeout 1s;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
      proxy_buffering off;
      # A gateway killed with -9 refuses connections: try the next one rather than answer 502.
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 2;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`;
}

/** Starts nginx balancing over the gateways on `upstreams` ports; resolves once it accepts connections. */
export async function startNginx(binary: string, upstreams: number[]): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'taskpulse-nginx-'));
  // Workers run as an unprivileged user when nginx starts as root: they must reach the temp paths.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'tmp'), { mode: 0o777 });
  chmodSync(join(dir, 'tmp'), 0o777);
  const port = await freePort();
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, config(dir, port, upstreams));
  const child: ChildProcess = spawn(binary, ['-p', dir, '-e', join(dir, 'error.log'), '-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  // SIGTERM, not SIGKILL: a killed master would leave its worker behind.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const errorLog = () => {
    try {
      return stderr + readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return stderr;
    }
  };
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      // SIGTERM is nginx's fast shutdown: the master stops its workers and exits.
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`nginx on port ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${errorLog()}`);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
      return res !== null && res.status === 200;
    }, 15_000, 100);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, wsBase: `ws://127.0.0.1:${port}`, errorLog, stop };
}
