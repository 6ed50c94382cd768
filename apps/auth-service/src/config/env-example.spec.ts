import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { loadConfig } from './app-config';
import { VARIABLE_NAMES } from './env.schema';
import { isServiceVariable } from './environment';

const EXAMPLE = readFileSync(join(__dirname, '../../../../.env.example'), 'utf8');

/** Every `NAME=` of the file, set or commented out (`# NAME=value`). */
const listed = new Set([...EXAMPLE.matchAll(/^(?:# )?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));

describe('.env.example', () => {
  it('lists every variable of the service', () => {
    expect(VARIABLE_NAMES.filter((name) => !listed.has(name))).toEqual([]);
  });

  it('lists only variables the service reads', () => {
    expect([...listed].filter((name) => name === undefined || !isServiceVariable(name))).toEqual([]);
  });

  it('sets each to its default: copied as it is, it changes nothing', () => {
    expect(loadConfig(parseEnv(EXAMPLE))).toEqual(loadConfig({}));
  });
});
