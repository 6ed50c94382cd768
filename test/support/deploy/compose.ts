/** The parts of docker-compose.yml and of nginx's config that test/deploy.e2e-spec.ts checks. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface ComposeService {
  image?: string;
  build?: string | { context: string };
  profiles?: string[];
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] | string };
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** Parsed as Compose does: YAML 1.1 merge keys (`<<: *anchor`) resolved, duplicate keys refused. */
export function readCompose(file: string): ComposeFile {
  return parse(readFileSync(file, 'utf8'), { merge: true, uniqueKeys: true }) as ComposeFile;
}

export function dependencies(service: ComposeService): Record<string, string> {
  const deps = service.depends_on ?? {};
  return Array.isArray(deps)
    ? Object.fromEntries(deps.map((name) => [name, 'service_started']))
    : Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d.condition ?? 'service_started']));
}

/** The host side of each published port (`8080:80`, `127.0.0.1:8080:80/tcp` → 8080). */
export function hostPorts(service: ComposeService): number[] {
  return (service.ports ?? []).map((mapping) => {
    const parts = mapping.replace(/\/(tcp|udp)$/, '').split(':');
    if (parts.length < 2) throw new Error(`${mapping}: no host port (Compose would pick a random one)`);
    return Number(parts[parts.length - 2]);
  });
}

/** `upstream NAME { server HOST:PORT …; }` blocks of an nginx config, as NAME → ['HOST:PORT', …]. */
export function nginxUpstreams(config: string): Record<string, string[]> {
  const withoutComments = config.replace(/#[^\n]*/g, '');
  const upstreams: Record<string, string[]> = {};
  // Every group of these patterns takes part in each match.
  for (const [, name, body] of withoutComments.matchAll(/upstream\s+(\S+)\s*\{([^}]*)\}/g)) {
    upstreams[name!] = [...body!.matchAll(/^\s*server\s+([^\s;]+)/gm)].map(([, address]) => address!);
  }
  return upstreams;
}
