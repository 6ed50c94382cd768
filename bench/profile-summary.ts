import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** The functions with the most self time in a V8 .cpuprofile, as a Markdown table. */
export function summariseProfile(file: string, top = 15): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    total += hits;
    const url = node.callFrame.url.replace(/^.*node_modules\//, '').replace(/^.*\/work\/[^/]+\//, '');
    const key =
      `${node.callFrame.functionName || '(anonymous)'} ${url ? `(${url}:${node.callFrame.lineNumber + 1})` : ''}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
  }
  const rows = [...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    '| self time | function |',
    '|---:|---|',
    ...rows.map(
      ([name, hits]) => `| ${((hits / total) * 100).toFixed(1)} % | \`${name.replace(/\|/g, '\\|')}\` |`,
    ),
  ].join('\n');
}
