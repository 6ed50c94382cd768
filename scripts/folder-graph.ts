/**
 * The import graph between the top-level folders of a source tree (apps/auth-service/src by
 * default), and what is wrong with it: cycles between folders, and imports out of libs/ into the
 * app. Checked by apps/auth-service/src/architecture.spec.ts; run it to see the graph:
 *
 *   node -r @swc-node/register scripts/folder-graph.ts [srcDir]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** folder → folder it imports → the imports that make the edge (`file: specifier`). */
export type FolderGraph = Map<string, Map<string, string[]>>;

/** Files at the root of the tree belong to this folder (main.ts, app.module.ts, create-app.ts). */
export const ROOT = '(root)';

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, type-only imports included. */
export function importsOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((i) => i.fileName);
}

function folderOf(srcDir: string, path: string): string {
  const parts = relative(srcDir, path).split(sep);
  const [first, ...rest] = parts;
  return first !== undefined && rest.length > 0 ? first : ROOT;
}

export function folderGraph(srcDir: string): FolderGraph {
  const graph: FolderGraph = new Map();
  for (const file of sourceFiles(srcDir)) {
    const from = folderOf(srcDir, file);
    for (const specifier of importsOf(file)) {
      if (!specifier.startsWith('.')) continue;
      const target = resolve(dirname(file), specifier);
      if (relative(srcDir, target).startsWith('..')) continue;
      const to = folderOf(srcDir, target);
      if (to === from) continue;
      const edges = graph.get(from) ?? new Map<string, string[]>();
      graph.set(from, edges);
      edges.set(to, [...(edges.get(to) ?? []), `${relative(srcDir, file)}: ${specifier}`]);
    }
  }
  return graph;
}

/** The groups of folders that import each other, directly or round about (Tarjan's SCCs). */
export function cycles(graph: FolderGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (stack.includes(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        group.push(member);
      } while (member !== node);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

/**
 * Imports of files under `libsDir` that reach outside it (into an app): `file: specifier`. A
 * lib's specs may use the repository's shared test helpers, `testSupportDir`, and nothing else.
 */
export function importsOutOf(libsDir: string, testSupportDir?: string): string[] {
  const isSpec = (file: string) => /\.(e2e-)?spec\.ts$/.test(file);
  const inside = (dir: string, path: string) => !relative(dir, path).startsWith('..');
  return sourceFiles(libsDir).flatMap((file) =>
    importsOf(file)
      .filter((specifier) => {
        if (!specifier.startsWith('.')) return /(^|\/)apps\//.test(specifier);
        const target = resolve(dirname(file), specifier);
        if (inside(libsDir, target)) return false;
        return !(testSupportDir && isSpec(file) && inside(testSupportDir, target));
      })
      .map((specifier) => `${relative(libsDir, file)}: ${specifier}`),
  );
}

if (require.main === module) {
  const srcDir = resolve(process.argv[2] ?? 'apps/auth-service/src');
  const graph = folderGraph(srcDir);
  for (const [from, edges] of [...graph].sort()) {
    console.log(`${from} → ${[...edges.keys()].sort().join(', ')}`);
  }
  const found = cycles(graph);
  console.log(found.length === 0 ? 'no cycles' : `cycles: ${found.map((c) => c.join(' ↔ ')).join('; ')}`);
}
