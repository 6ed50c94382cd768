/**
 * Renders a kustomization the way `kubectl apply -k` would, for the subset of kustomize that
 * deploy/kubernetes uses (kustomize is not installed where the tests run): `resources` (files and
 * other kustomization dirs) and `patches` (strategic merge, by file). Anything else in a
 * kustomization.yaml, or a `$patch` directive, is refused rather than silently ignored.
 */
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

interface Kustomization {
  resources?: string[];
  patches?: { path: string; target?: { kind: string; name: string } }[];
}

const IMPLEMENTED = new Set(['apiVersion', 'kind', 'resources', 'patches']);
const PATCH_FIELDS = new Set(['path', 'target']);
/**
 * Lists Kubernetes merges item by item, keyed by `name` (their patchMergeKey); every other list in
 * a strategic merge patch replaces the original, as kustomize does.
 */
const MERGED_BY_NAME = new Set(['containers', 'initContainers', 'env', 'volumes', 'volumeMounts']);

/** Every YAML document of a file, parsed strictly (a duplicate key or a syntax error throws). */
function readYamlDocuments(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8'), { uniqueKeys: true }).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS();
  });
}

export function renderKustomization(dir: string): KubernetesObject[] {
  const file = join(dir, 'kustomization.yaml');
  const [kustomization] = readYamlDocuments(file) as [Kustomization & Record<string, unknown>];
  const unknown = Object.keys(kustomization).filter((key) => !IMPLEMENTED.has(key));
  if (unknown.length > 0) throw new Error(`${file}: ${unknown.join(', ')} not implemented by this renderer`);

  const objects = (kustomization.resources ?? []).flatMap((entry) => {
    const path = resolve(dir, entry);
    return statSync(path).isDirectory()
      ? renderKustomization(path)
      : (readYamlDocuments(path) as KubernetesObject[]);
  });
  for (const patch of kustomization.patches ?? []) {
    const extra = Object.keys(patch).filter((key) => !PATCH_FIELDS.has(key));
    if (extra.length > 0) throw new Error(`${file}: patch field(s) ${extra.join(', ')} not implemented`);
    for (const change of readYamlDocuments(resolve(dir, patch.path)) as KubernetesObject[]) {
      const target = patch.target ?? { kind: change.kind, name: change.metadata.name };
      const matches = objects.flatMap((object, index) =>
        object.kind === target.kind && object.metadata.name === target.name ? [{ object, index }] : [],
      );
      const [match, ...others] = matches;
      if (!match || others.length > 0) {
        throw new Error(
          `${patch.path}: ${matches.length} objects match ${target.kind}/${target.name} (need 1)`,
        );
      }
      objects[match.index] = strategicMerge(match.object, change) as KubernetesObject;
    }
  }
  const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
  const duplicates = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (duplicates.length > 0) throw new Error(`${dir}: ${duplicates.join(', ')} defined twice`);
  return objects;
}

/** A strategic merge patch: maps merge, `null` removes a key, named lists merge by name. */
export function strategicMerge(original: unknown, patch: unknown): unknown {
  refuseDirectives(patch);
  return merge(original, patch);
}

function merge(original: unknown, patch: unknown, field?: string): unknown {
  if (isMap(original) && isMap(patch)) {
    const merged: Record<string, unknown> = { ...original };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete merged[key];
      else merged[key] = key in merged ? merge(merged[key], value, key) : value;
    }
    return merged;
  }
  if (Array.isArray(original) && Array.isArray(patch) && field && MERGED_BY_NAME.has(field)) {
    const merged = [...original] as { name?: string }[];
    for (const item of patch as { name?: string }[]) {
      const at = merged.findIndex((existing) => existing.name === item.name);
      if (at >= 0) merged[at] = merge(merged[at], item) as { name?: string };
      else merged.push(item);
    }
    return merged;
  }
  return patch;
}

/** `$patch`, `$setElementOrder`…: directives this subset does not implement, anywhere in a patch. */
function refuseDirectives(patch: unknown): void {
  if (Array.isArray(patch)) patch.forEach(refuseDirectives);
  if (!isMap(patch)) return;
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) throw new Error(`The ${key} directive is not implemented by this renderer`);
    refuseDirectives(value);
  }
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
