/**
 * The Kubernetes base, checked without a cluster: every manifest parses, every Deployment runs an entry
 * point that exists with an environment its own config loader accepts and fully reads, probes and
 * Services point at ports and routes that exist, and the drain fits in the grace period.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadApiConfig } from '../../../apps/api/src/config';
import { loadGatewayConfig } from '../../../apps/gateway/src/config';
import { loadWorkerConfig } from '../../../apps/worker/src/config';

const root = new URL('../../../', import.meta.url).pathname;
const base = new URL('../base/', import.meta.url).pathname;

type Doc = Record<string, any>;
const kustomization = parseAllDocuments(readFileSync(`${base}kustomization.yaml`, 'utf8'))[0]!.toJS() as Doc;
const docs: Doc[] = (kustomization.resources as string[]).flatMap((file) =>
  parseAllDocuments(readFileSync(`${base}${file}`, 'utf8')).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Doc;
  }),
);
const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
const configMap: Record<string, string> = Object.fromEntries(
  (kustomization.configMapGenerator[0].literals as string[]).map((literal) => literal.split(/=(.*)/s).slice(0, 2)),
);

const loaders: Record<string, (env: Record<string, string | undefined>) => unknown> = {
  'apps/gateway/src/main.ts': loadGatewayConfig,
  'apps/api/src/main.ts': (env) => loadApiConfig(env, { requireRedis: true }),
  'apps/worker/src/main.ts': loadWorkerConfig,
};

function containerEnv(container: Doc): Record<string, string> {
  const env = { ...configMap };
  for (const item of container.env ?? []) env[item.name] = item.value ?? 'taskpulse-gateway-5d8f7c9b6-x2kqz';
  return env;
}

describe('deploy/k8s base', () => {
  it('has a gateway, an api and a worker Deployment, each running an existing entry point', () => {
    expect(byKind('Deployment').map((d) => d.metadata.name).sort()).toEqual(['taskpulse-api', 'taskpulse-gateway', 'taskpulse-worker']);
    for (const deployment of byKind('Deployment')) {
      const [container] = deployment.spec.template.spec.containers;
      const entry = (container.command as string[]).find((arg) => arg.endsWith('main.ts'))!;
      expect(existsSync(`${root}${entry}`), entry).toBe(true);
      expect(deployment.spec.selector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
    }
  });

  it("gives each process an environment its config accepts, with no variable it ignores", () => {
    for (const deployment of byKind('Deployment')) {
      const [container] = deployment.spec.template.spec.containers;
      const entry = (container.command as string[]).find((arg) => arg.endsWith('main.ts'))!;
      const env = containerEnv(container);
      const read = new Set<string>();
      const watched = new Proxy(env, {
        get: (target, name: string) => {
          read.add(name);
          return target[name];
        },
      });
      expect(() => loaders[entry]!(watched), entry).not.toThrow();
      for (const name of Object.keys(env)) expect(read.has(name), `${entry} reads ${name}`).toBe(true);
    }
  });

  it('points probes, Services and budgets at ports, routes and pods that exist', () => {
    const routes = readFileSync(`${root}apps/gateway/src/http-routes.ts`, 'utf8') + readFileSync(`${root}apps/api/src/routes/health-routes.ts`, 'utf8');
    for (const deployment of byKind('Deployment')) {
      const [container] = deployment.spec.template.spec.containers;
      const ports = new Set((container.ports ?? []).map((p: Doc) => p.name));
      for (const probe of [container.readinessProbe, container.livenessProbe].filter(Boolean)) {
        expect(ports.has(probe.httpGet.port)).toBe(true);
        expect(routes).toContain(`'${probe.httpGet.path}'`);
      }
      const port = (container.ports ?? [])[0]?.containerPort;
      if (port) expect(container.env.find((e: Doc) => e.name === 'PORT').value).toBe(String(port));
    }
    for (const selecting of [...byKind('Service'), ...byKind('PodDisruptionBudget')]) {
      const selector = selecting.spec.selector.matchLabels ?? selecting.spec.selector;
      const target = byKind('Deployment').find((d) => Object.entries(selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v));
      expect(target, selecting.metadata.name).toBeDefined();
      if (selecting.kind === 'Service') {
        const names = target!.spec.template.spec.containers[0].ports.map((p: Doc) => p.name);
        for (const port of selecting.spec.ports) expect(names).toContain(port.targetPort);
      }
    }
  });

  it("lets a gateway drain within its grace period", () => {
    const gateway = byKind('Deployment').find((d) => d.metadata.name === 'taskpulse-gateway')!;
    const spec = gateway.spec.template.spec;
    const preStop = Number(spec.containers[0].lifecycle.preStop.exec.command[1]);
    // gateway.close(): engine calls settle within 5 s, then 0.5 s for clients to read the 1012 close frame
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + 5.5 + 5);
    expect(spec.containers[0].command).toContain('--max-semi-space-size=4');
  });
});
