/**
 * The Kubernetes overlays, rendered without a cluster (kustomize-subset.ts) and checked against the code:
 * every Deployment runs an entry point that exists with an environment its own config loader accepts and
 * fully reads (Secrets and mounted files included), probes, Services, the ServiceMonitor, NetworkPolicies
 * and the Ingress point at ports and routes the code serves, the drain fits in the grace period, and each
 * overlay is what it says (dev: in-cluster Redis, insecure, one replica; production: Secrets, jwt, HPA).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadApiConfig } from '../../../apps/api/src/config';
import { WS_PATH } from '../../../apps/gateway/src/gateway';
import { loadGatewayConfig } from '../../../apps/gateway/src/config';
import { loadWorkerConfig } from '../../../apps/worker/src/config';
import { readYaml, render, type Doc } from './kustomize-subset';

const root = new URL('../../../', import.meta.url).pathname;
const overlays = new URL('../overlays/', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'taskpulse-manifests-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Per entry point: its config loader and the source files that declare the HTTP routes it serves. */
const PROCESSES: Record<string, { load: (env: Record<string, string | undefined>) => unknown; routes: string[] }> = {
  'apps/gateway/src/main.ts': { load: loadGatewayConfig, routes: ['apps/gateway/src/http-routes.ts'] },
  'apps/api/src/main.ts': { load: (env) => loadApiConfig(env, { requireRedis: true }), routes: ['apps/api/src/routes/health-routes.ts'] },
  'apps/worker/src/main.ts': { load: loadWorkerConfig, routes: ['packages/metrics/src/metrics-server.ts'] },
};

/** Values a Secret would hold, by key. */
const SECRET_VALUES: Record<string, string> = {
  REDIS_URL: 'rediss://default:password@redis.example.com:6380',
  JWT_SECRET: 'a-production-secret-of-at-least-32-bytes',
};

const entryOf = (container: Doc): string => (container.command as string[]).find((arg) => arg.endsWith('main.ts'))!;
const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

function rendered(name: string) {
  const docs = render(join(overlays, name));
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const named = (kind: string, metadataName: string) => docs.find((d) => d.kind === kind && d.metadata.name === metadataName)!;
  const deployments = byKind('Deployment').filter((d) => d.metadata.name !== 'taskpulse-redis');
  return { docs, byKind, named, deployments };
}

/** The container's environment as the process would see it: ConfigMaps, literals, Secrets, the pod name; mounted files written to disk. */
function containerEnv(docs: Doc[], deployment: Doc, container: Doc): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const map = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === source.configMapRef.name);
    expect(map, `ConfigMap ${source.configMapRef.name}`).toBeDefined();
    Object.assign(env, map!.data);
  }
  for (const item of container.env ?? []) {
    if (item.value !== undefined) env[item.name] = item.value;
    else if (item.valueFrom?.secretKeyRef) env[item.name] = SECRET_VALUES[item.valueFrom.secretKeyRef.key]!;
    else if (item.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[item.name] = `${deployment.metadata.name}-5d8f7c9b6-x2kqz`;
    else throw new Error(`${deployment.metadata.name}: env ${item.name} has an unknown source`);
  }
  // A path variable must point into a mounted Secret; the test puts a valid file there.
  for (const [name, value] of Object.entries(env)) {
    if (!name.endsWith('_FILE')) continue;
    const mount = (container.volumeMounts ?? []).find((m: Doc) => value.startsWith(`${m.mountPath}/`));
    expect(mount, `${name} lies in a mounted volume`).toBeDefined();
    const volume = deployment.spec.template.spec.volumes.find((v: Doc) => v.name === mount.name);
    expect(volume.secret?.secretName, `${name}'s volume is a Secret`).toBeTypeOf('string');
    const file = join(scratch, `${deployment.metadata.name}-${name}.json`);
    writeFileSync(file, JSON.stringify([{ id: 'worker-a', sha256: 'a'.repeat(64), scopes: ['publish'] }]));
    env[name] = file;
  }
  return env;
}

describe.each(['dev', 'production'])('deploy/k8s/overlays/%s', (overlay) => {
  const { docs, byKind, named, deployments } = rendered(overlay);

  it('has a gateway, an api and a worker Deployment, each running an existing entry point', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['taskpulse-api', 'taskpulse-gateway', 'taskpulse-worker']);
    for (const deployment of deployments) {
      const [container] = deployment.spec.template.spec.containers;
      expect(existsSync(`${root}${entryOf(container)}`), entryOf(container)).toBe(true);
      expect(selects(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(true);
      expect(deployment.spec.template.metadata.labels['app.kubernetes.io/part-of']).toBe('taskpulse');
      expect(container.resources.requests.cpu, `${deployment.metadata.name} cpu request`).toBeDefined();
      expect(container.resources.limits.memory, `${deployment.metadata.name} memory limit`).toBeDefined();
    }
  });

  it('gives each process an environment its config loader accepts, with no variable it ignores', () => {
    for (const deployment of deployments) {
      const [container] = deployment.spec.template.spec.containers;
      const entry = entryOf(container);
      const env = containerEnv(docs, deployment, container);
      const read = new Set<string>();
      const watched = new Proxy(env, {
        get: (target, name) => {
          if (typeof name === 'string') read.add(name);
          return Reflect.get(target, name);
        },
      });
      expect(() => PROCESSES[entry]!.load(watched), entry).not.toThrow();
      for (const name of Object.keys(env)) expect(read.has(name), `${entry} reads ${name}`).toBe(true);
    }
  });

  it('serves probes and metrics on ports and routes the code serves, and Services, budgets and the ServiceMonitor find them', () => {
    for (const deployment of deployments) {
      const [container] = deployment.spec.template.spec.containers;
      const { routes } = PROCESSES[entryOf(container)]!;
      const source = routes.map((file) => readFileSync(`${root}${file}`, 'utf8')).join('\n');
      const ports = new Map<string, number>((container.ports ?? []).map((p: Doc) => [p.name, p.containerPort]));
      for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe].filter(Boolean)) {
        expect(ports.has(probe.httpGet.port), `${deployment.metadata.name} probe port ${probe.httpGet.port}`).toBe(true);
        expect(source).toContain(`'${probe.httpGet.path}'`);
      }
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      expect(container.livenessProbe.httpGet.path).toBe('/healthz');
      // The process listens where the manifest says, and serves /metrics there.
      const env = containerEnv(docs, deployment, container);
      const listenPort = Number(env.METRICS_PORT ?? env.PORT);
      expect([...ports.values()]).toEqual([listenPort]);
      expect(source).toContain("'/metrics'");
      const annotations = deployment.spec.template.metadata.annotations;
      expect(annotations['prometheus.io/port']).toBe(String(listenPort));
      expect(annotations['prometheus.io/path']).toBe('/metrics');
    }
    for (const selecting of [...byKind('Service'), ...byKind('PodDisruptionBudget')]) {
      const selector = selecting.spec.selector.matchLabels ?? selecting.spec.selector;
      const target = byKind('Deployment').find((d) => selects(selector, d.spec.template.metadata.labels));
      expect(target, selecting.metadata.name).toBeDefined();
      if (selecting.kind === 'Service') {
        const names = target!.spec.template.spec.containers[0].ports.map((p: Doc) => p.name);
        for (const port of selecting.spec.ports) expect(names).toContain(port.targetPort);
      }
    }
    for (const monitor of byKind('ServiceMonitor')) {
      const services = byKind('Service').filter((s) => selects(monitor.spec.selector.matchLabels, s.metadata.labels));
      for (const deployment of deployments) {
        const service = services.find((s) => selects(s.spec.selector, deployment.spec.template.metadata.labels));
        expect(service, `a monitored Service for ${deployment.metadata.name}`).toBeDefined();
        const scraped = monitor.spec.endpoints.filter((e: Doc) => service!.spec.ports.some((p: Doc) => p.name === e.port));
        expect(scraped.map((e: Doc) => e.path), deployment.metadata.name).toEqual(['/metrics']);
      }
    }
  });

  it('lets a gateway drain within its grace period, after the preStop pause', () => {
    const spec = named('Deployment', 'taskpulse-gateway').spec.template.spec;
    const preStop = Number(spec.containers[0].lifecycle.preStop.exec.command[1]);
    expect(preStop).toBeGreaterThanOrEqual(3);
    // gateway.close(): engine calls settle within 5 s, then 0.5 s for clients to read the 1012 close frame; then the engine closes
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + 5.5 + 5);
    expect(spec.containers[0].command).toContain('--max-semi-space-size=4');
    for (const constraint of spec.topologySpreadConstraints) {
      expect(selects(constraint.labelSelector.matchLabels, named('Deployment', 'taskpulse-gateway').spec.template.metadata.labels)).toBe(true);
    }
  });

  it('routes /api/v1/ws to the gateways with long timeouts and the rest to the API', () => {
    const [ingress] = byKind('Ingress');
    const timeout = Number(ingress!.metadata.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout']);
    expect(timeout).toBeGreaterThanOrEqual(2 * 25 + 10); // longer than two ping intervals: an idle socket is not cut
    for (const rule of ingress!.spec.rules) {
      const paths = rule.http.paths as Doc[];
      const ws = paths.find((p) => p.path === WS_PATH)!;
      expect(ws.backend.service.name).toBe('taskpulse-gateway');
      expect(paths.find((p) => p.path === '/')!.backend.service.name).toBe('taskpulse-api');
      for (const path of paths) {
        const service = named('Service', path.backend.service.name);
        expect(service.spec.ports.map((p: Doc) => p.name)).toContain(path.backend.service.port.name);
      }
    }
  });

  it('lets each pod be reached only on the port it serves', () => {
    for (const deployment of byKind('Deployment')) {
      const labels = deployment.spec.template.metadata.labels;
      const policies = byKind('NetworkPolicy').filter((p) => selects(p.spec.podSelector.matchLabels, labels));
      expect(policies, `${deployment.metadata.name} has a NetworkPolicy`).toHaveLength(1);
      const ports = deployment.spec.template.spec.containers[0].ports.map((p: Doc) => p.name);
      for (const rule of policies[0]!.spec.ingress) {
        expect(rule.ports.map((p: Doc) => p.port)).toEqual(ports);
        for (const from of rule.from ?? []) {
          const allowed = deployments.filter((d) => selects(from.podSelector.matchLabels, d.spec.template.metadata.labels));
          expect(allowed.length, `${policies[0]!.metadata.name} lets taskpulse in`).toBe(3);
        }
      }
    }
  });

  if (overlay === 'dev') {
    it('runs one replica each, insecure, on a Redis inside the cluster', () => {
      for (const deployment of deployments) expect(deployment.spec.replicas).toBe(1);
      const config = named('ConfigMap', 'taskpulse-config').data;
      expect(config.AUTH_MODE).toBe('insecure');
      const url = new URL(config.REDIS_URL);
      const redis = named('Service', url.hostname);
      expect(redis.spec.ports.map((p: Doc) => p.port)).toContain(Number(url.port));
      expect(selects(redis.spec.selector, named('Deployment', 'taskpulse-redis').spec.template.metadata.labels)).toBe(true);
    });
  } else {
    it('takes REDIS_URL and the JWT key from Secrets in jwt mode, and autoscales the gateways', () => {
      expect(named('ConfigMap', 'taskpulse-config').data.AUTH_MODE).toBe('jwt');
      expect(named('ConfigMap', 'taskpulse-config').data.REDIS_URL).toBeUndefined();
      for (const deployment of deployments) {
        const env = deployment.spec.template.spec.containers[0].env as Doc[];
        expect(env.find((e) => e.name === 'REDIS_URL')?.valueFrom.secretKeyRef.name, deployment.metadata.name).toBe('taskpulse-redis');
        if (deployment.metadata.name !== 'taskpulse-worker') {
          expect(env.find((e) => e.name === 'JWT_SECRET')?.valueFrom.secretKeyRef.name).toBe('taskpulse-auth');
        }
      }
      const [hpa] = byKind('HorizontalPodAutoscaler');
      expect(hpa!.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'taskpulse-gateway' });
      expect(hpa!.spec.minReplicas).toBeGreaterThanOrEqual(2);
      // The autoscaler owns the count: a replicas field would reset it on every apply.
      expect(named('Deployment', 'taskpulse-gateway').spec.replicas).toBeUndefined();
      expect(named('Deployment', 'taskpulse-gateway').spec.template.spec.containers[0].resources.requests.cpu).toBeDefined();
      expect(byKind('Ingress')[0]!.spec.tls[0].hosts).toEqual(byKind('Ingress')[0]!.spec.rules.map((r: Doc) => r.host));
    });

    it('carries the alert rules of deploy/prometheus/alerts.yaml in its PrometheusRule', () => {
      const [rule] = byKind('PrometheusRule');
      expect(rule!.spec).toEqual(readYaml(`${root}deploy/prometheus/alerts.yaml`)[0]);
    });
  }
});
