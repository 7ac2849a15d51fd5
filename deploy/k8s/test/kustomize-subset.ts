/**
 * Renders a Kustomize directory with the subset of Kustomize these manifests use, so the test needs no
 * kustomize binary: `resources` (files and directories), `labels` (metadata only), `configMapGenerator`
 * (literals; `behavior: merge` in an overlay; the name keeps no hash suffix), `images` (newName/newTag),
 * `replicas`, and `patches` that are strategic-merge patches, one per file (maps merged; `containers`, `env`,
 * `ports`, `volumes`, `volumeMounts` merged by `name`; `$patch: delete` removes an item; other lists replaced).
 * Anything else in a kustomization.yaml is refused, so a manifest never relies on a feature this ignores.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Doc = Record<string, any>;

const KNOWN = new Set(['apiVersion', 'kind', 'resources', 'labels', 'configMapGenerator', 'images', 'replicas', 'patches']);
const MERGE_KEYS = new Set(['containers', 'initContainers', 'env', 'ports', 'volumes', 'volumeMounts']);

/** Parses every YAML document of a file; a syntax error fails. */
export function readYaml(path: string): Doc[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((document) => {
    if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0]!.message}`);
    return document.toJS() as Doc;
  });
}

/** The objects `dir`'s kustomization.yaml builds, in order. */
export function render(dir: string): Doc[] {
  const [kustomization] = readYaml(join(dir, 'kustomization.yaml'));
  if (kustomization === undefined) throw new Error(`${dir}: empty kustomization.yaml`);
  for (const key of Object.keys(kustomization)) if (!KNOWN.has(key)) throw new Error(`${dir}: kustomization field ${key} is not supported by the test's renderer`);
  const docs: Doc[] = [];
  for (const resource of (kustomization.resources ?? []) as string[]) {
    const path = join(dir, resource);
    docs.push(...(statSync(path).isDirectory() ? render(path) : readYaml(path)));
  }
  for (const generator of (kustomization.configMapGenerator ?? []) as Doc[]) {
    const data = Object.fromEntries((generator.literals as string[]).map((literal) => literal.split(/=(.*)/s).slice(0, 2)));
    const existing = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === generator.name);
    if (generator.behavior === 'merge') {
      if (!existing) throw new Error(`${dir}: configMapGenerator ${generator.name} merges into nothing`);
      Object.assign(existing.data, data);
    } else {
      if (existing) throw new Error(`${dir}: configMapGenerator ${generator.name} exists already (use behavior: merge)`);
      docs.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data });
    }
  }
  for (const patch of (kustomization.patches ?? []) as Doc[]) {
    if (typeof patch.path !== 'string' || patch.target !== undefined || patch.patch !== undefined) {
      throw new Error(`${dir}: only strategic-merge patches from a file (patches: - path: …) are supported`);
    }
    const changes = readYaml(join(dir, patch.path));
    if (changes.length !== 1) throw new Error(`${dir}/${patch.path}: one patch per file`);
    for (const change of changes) {
      const target = docs.find((d) => d.kind === change.kind && d.metadata.name === change.metadata?.name);
      if (!target) throw new Error(`${dir}/${patch.path}: no ${change.kind} ${change.metadata?.name} to patch`);
      Object.assign(target, merge(target, change));
    }
  }
  for (const { name, count } of (kustomization.replicas ?? []) as Doc[]) {
    const target = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === name);
    if (!target) throw new Error(`${dir}: replicas for missing Deployment ${name}`);
    target.spec.replicas = count;
  }
  for (const image of (kustomization.images ?? []) as Doc[]) {
    for (const container of docs.flatMap((d) => d.spec?.template?.spec?.containers ?? [])) {
      const [name, tag] = String(container.image).split(':');
      if (name !== image.name) continue;
      container.image = `${image.newName ?? name}:${image.newTag ?? tag ?? 'latest'}`;
    }
  }
  for (const { pairs } of (kustomization.labels ?? []) as Doc[]) {
    for (const doc of docs) doc.metadata.labels = { ...doc.metadata.labels, ...pairs };
  }
  return docs;
}

/** A strategic merge of `patch` into `base` (a new object; neither is changed). */
function merge(base: any, patch: any, key = ''): any {
  if (Array.isArray(patch)) {
    if (!MERGE_KEYS.has(key) || !Array.isArray(base)) return structuredClone(patch);
    const out = structuredClone(base) as Doc[];
    for (const item of patch as Doc[]) {
      const at = out.findIndex((existing) => existing.name === item.name);
      if (item.$patch === 'delete') {
        if (at >= 0) out.splice(at, 1);
      } else if (at >= 0) out[at] = merge(out[at], item);
      else out.push(structuredClone(item));
    }
    return out;
  }
  if (patch === null || typeof patch !== 'object') return patch;
  const out: Doc = base !== null && typeof base === 'object' && !Array.isArray(base) ? { ...base } : {};
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) delete out[field];
    else out[field] = merge(out[field], value, field);
  }
  return out;
}
