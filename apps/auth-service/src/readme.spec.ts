import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function section(heading: string): string {
  const start = README.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no section "${heading}"`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

/** The package names in a section's first column, `a/{b,c}` written out as `a/b`, `a/c`. */
function namedPackages(text: string): Set<string> {
  const names = [...text.matchAll(/^\| (.+?) \|/gm)].flatMap((row) =>
    [...row[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!),
  );
  return new Set(
    names.flatMap((name) => {
      const braces = /^(.*)\{([^}]+)\}(.*)$/.exec(name);
      return braces ? braces[2]!.split(',').map((part) => `${braces[1]}${part}${braces[3]}`) : [name];
    }),
  );
}

describe('README', () => {
  it('says why for every dependency of package.json (Dependencies and why)', () => {
    const named = namedPackages(section('Dependencies and why'));
    const all = [...Object.keys(PACKAGE.dependencies), ...Object.keys(PACKAGE.devDependencies)];
    expect(all.filter((name) => !named.has(name))).toEqual([]);
  });

  it('names every top-level folder of the project in Layout', () => {
    const layout = section('Layout');
    const folders = ['apps/auth-service', 'apps/example-consumer', 'apps/example-frontend'];
    folders.push(...['auth-client', 'cache', 'database', 'metrics', 'redis'].map((lib) => `libs/${lib}`));
    folders.push('bench', 'scripts', 'docs', 'deploy', 'ops', 'prisma', 'test');
    expect(folders.filter((folder) => !layout.includes(`\n${folder}/`))).toEqual([]);
  });
});
