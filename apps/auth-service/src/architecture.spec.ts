import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { cycles, folderGraph, FolderGraph, importsOutOf, sourceFiles } from '../../../scripts/folder-graph';

const SRC = __dirname;
const LIBS = join(__dirname, '../../../libs');
const TEST_SUPPORT = join(__dirname, '../../../test/support');

/** Folder imports that the architecture forbids, each with why. */
const FORBIDDEN: { from: string; to: string; why: string }[] = [
  { from: 'users', to: 'auth', why: 'users never depend on the login flow' },
  { from: 'sessions', to: 'oauth', why: 'sessions know nothing of how a user signed in' },
];

/** The only @Global() module of the app, and why it may be: the config is every module's input. */
const GLOBAL_MODULES = ['config/config.module.ts'];

describe('architecture of apps/auth-service/src', () => {
  const graph = folderGraph(SRC);

  it('has no import cycle between its folders', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it.each(FORBIDDEN)('$from/ never imports $to/ ($why)', ({ from, to }) => {
    expect(graph.get(from)?.get(to) ?? []).toEqual([]);
  });

  it('marks no module @Global() but the config', () => {
    const globals = sourceFiles(SRC)
      .filter((file) => !file.endsWith('.spec.ts') && /^@Global\(\)/m.test(readFileSync(file, 'utf8')))
      .map((file) => relative(SRC, file));
    expect(globals).toEqual(GLOBAL_MODULES);
  });

  it('libs never import the app (their specs may use test/support)', () => {
    expect(importsOutOf(LIBS, TEST_SUPPORT)).toEqual([]);
  });
});

describe('folder-graph (the checks above can fail)', () => {
  const graphOf = (edges: [string, string][]): FolderGraph => {
    const graph: FolderGraph = new Map();
    for (const [from, to] of edges) {
      graph.set(from, (graph.get(from) ?? new Map<string, string[]>()).set(to, [`${from}→${to}`]));
    }
    return graph;
  };

  it('finds a cycle through three folders, and none in a chain', () => {
    expect(
      cycles(
        graphOf([
          ['a', 'b'],
          ['b', 'c'],
          ['c', 'a'],
          ['c', 'd'],
        ]),
      ),
    ).toEqual([['a', 'b', 'c']]);
    expect(
      cycles(
        graphOf([
          ['a', 'b'],
          ['b', 'c'],
        ]),
      ),
    ).toEqual([]);
  });

  it('flags a lib importing the app, or test/support from anything but a spec', () => {
    const root = mkdtempSync(join(tmpdir(), 'folder-graph-'));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    try {
      write('libs/x/src/app-user.ts', "import { a } from '../../../apps/y/src/a';");
      write('libs/x/src/helper-user.ts', "import { waitUntil } from '../../../test/support/wait-until';");
      write('libs/x/src/ok.e2e-spec.ts', "import { waitUntil } from '../../../test/support/wait-until';");
      write('libs/x/src/sibling.spec.ts', "import { b } from './app-user';");
      expect(importsOutOf(join(root, 'libs'), join(root, 'test/support')).sort()).toEqual([
        'x/src/app-user.ts: ../../../apps/y/src/a',
        'x/src/helper-user.ts: ../../../test/support/wait-until',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('sees the folder imports of this tree (auth imports access)', () => {
    expect(folderGraph(SRC).get('auth')?.get('access')?.length).toBeGreaterThan(0);
  });
});
