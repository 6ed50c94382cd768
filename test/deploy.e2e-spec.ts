/**
 * The deployment files, checked the way CI can without a cluster or Docker: every Kubernetes
 * object of every overlay rendered (test/support/deploy/kustomize.ts) and validated against its
 * kind's schema, then held to what this service needs (probes on documented routes, secrets as
 * mounted files, selectors that select, a graceful stop that fits its grace period, budgets);
 * and the Compose `cluster` profile's structure, with the nginx upstreams it balances over.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import {
  ComposeService,
  dependencies,
  hostPorts,
  nginxUpstreams,
  readCompose,
} from './support/deploy/compose';
import { beforeFirst } from '../apps/auth-service/src/common/before-first';
import { validateAgainstSchema } from './support/deploy/kubernetes-schemas';
import { KubernetesObject, renderKustomization, strategicMerge } from './support/deploy/kustomize';
import { cpuCores, memoryMiB } from './support/deploy/quantities';

const ROOT = join(__dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const API = read('docs/api.md');
const README = read('README.md');
const PACKAGE = JSON.parse(read('package.json')) as { version: string; dependencies: Record<string, string> };

/** Every `NAME` the contract (docs/api.md) or the README's configuration table documents. */
const DOCUMENTED_VARIABLES = new Set(
  [...`${API}\n${README}`.matchAll(/`([A-Z][A-Z0-9_]{2,})`/g)].map((m) => m[1]),
);
/** Node's own, not the service's. */
const RUNTIME_VARIABLES = new Set(['NODE_OPTIONS']);

// Figures behind the budgets (deploy/README.md, "Sizing" and "Graceful stop").
/** How the service was measured: heap cap and hashes at once, as the ConfigMap sets them. */
const MEASURED_WITH = { NODE_OPTIONS: '--max-old-space-size=256', PASSWORD_HASH_CONCURRENCY: '1' };
/** Resident memory then: under /auth/me load, and at its peak (a login flood after it). */
const MEASURED_LOADED_MIB = 290;
const MEASURED_PEAK_MIB = 335;
/** What the peak may use of the limit: the rest is for what the measurement did not exercise. */
const LIMIT_HEADROOM = 0.8;
/** argon2id's memory per hash (README, "How it works"). */
const ARGON2_MIB = 19;
/** PostgreSQL's default max_connections, less its 3 superuser_reserved_connections. */
const POSTGRES_CONNECTIONS = 100 - 3;
/** The service's stop after SIGTERM at worst: activity flush ≤ 8 s, in-flight requests ≤ 15 s, close. */
const SERVICE_STOP_SECONDS = 25;
/** Endpoint removal reaching kube-proxy and ingress controllers takes a few seconds. */
const MIN_PRESTOP_SECONDS = 5;

const OVERLAYS = [
  { name: 'base', path: 'base', redis: { REDIS_MODE: 'standalone', REDIS_URL: /^rediss?:\/\/[^@]+$/ } },
  {
    name: 'redis-cluster',
    path: 'overlays/redis-cluster',
    redis: { REDIS_MODE: 'cluster', REDIS_NODES: /./ },
  },
  {
    name: 'redis-sentinel',
    path: 'overlays/redis-sentinel',
    redis: { REDIS_MODE: 'sentinel', REDIS_SENTINELS: /./, REDIS_SENTINEL_NAME: /^\w+$/ },
  },
];

const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('the kustomize subset the manifests are rendered with', () => {
  it('merges maps, removes null keys, merges named lists by name and replaces other lists', () => {
    const base = {
      data: { A: '1', B: '2' },
      containers: [{ name: 'app', env: [{ name: 'X', value: '1' }], args: ['--a'] }],
    };
    const patch = {
      data: { B: null, C: '3' },
      containers: [{ name: 'app', env: [{ name: 'Y', value: '2' }], args: ['--b'] }, { name: 'sidecar' }],
    };
    expect(strategicMerge(base, patch)).toEqual({
      data: { A: '1', C: '3' },
      containers: [
        {
          name: 'app',
          env: [
            { name: 'X', value: '1' },
            { name: 'Y', value: '2' },
          ],
          args: ['--b'],
        },
        { name: 'sidecar' },
      ],
    });
  });

  it('refuses what it does not implement instead of ignoring it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kustomize-subset-'));
    try {
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        'resources: []\nimages:\n  - name: auth-service\n    newTag: x\n',
      );
      expect(() => renderKustomization(dir)).toThrow(/images not implemented/);
      expect(() => strategicMerge({ a: [] }, { a: { $patch: 'delete' } })).toThrow(/\$patch directive/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(OVERLAYS)('Kubernetes manifests: $name', ({ path, redis }) => {
  const objects = renderKustomization(join(ROOT, 'deploy/kubernetes', path));
  const one = (kind: string): any => {
    const found = objects.filter((o) => o.kind === kind);
    if (found.length !== 1) throw new Error(`${found.length} ${kind} objects in ${path}, expected 1`);
    return found[0];
  };
  const deployment = one('Deployment');
  const job = one('Job');
  const config: Record<string, string> = one('ConfigMap').data;
  const service = one('Service');
  const pdb = one('PodDisruptionBudget');
  const hpa = one('HorizontalPodAutoscaler');
  const monitor = one('ServiceMonitor');
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  const workloads = [
    { name: 'Deployment', pod, containers: pod.containers },
    { name: 'Job', pod: job.spec.template.spec, containers: job.spec.template.spec.containers },
  ];
  const env = (c: any, name: string): string | undefined => c.env?.find((e: any) => e.name === name)?.value;

  it("renders objects that are each valid against their kind's schema", () => {
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'Job',
      'PodDisruptionBudget',
      'Service',
      'ServiceMonitor',
    ]);
    const invalid = objects.flatMap((o: KubernetesObject) => {
      try {
        validateAgainstSchema(o);
        return [];
      } catch (error) {
        return [`${o.kind}/${o.metadata.name}: ${(error as Error).message}`];
      }
    });
    expect(invalid).toEqual([]);
  });

  it('probes the health routes docs/api.md documents, on the container port the Service targets', () => {
    const ports = container.ports.map((p: any) => p.name);
    const probes = {
      readinessProbe: '/health/ready',
      livenessProbe: '/health/live',
      startupProbe: '/health/live',
    };
    for (const [probe, route] of Object.entries(probes)) {
      expect(container[probe]?.httpGet).toEqual({ path: route, port: 'http' });
      expect(API).toContain(`| GET ${route} |`);
    }
    expect(ports).toContain('http');
    expect(container.ports.find((p: any) => p.name === 'http').containerPort).toBe(Number(config.PORT));
    expect(service.spec.ports.map((p: any) => p.targetPort)).toEqual(['http']);
  });

  it('passes every secret as a *_FILE path into a mounted secret, and only documented variables', () => {
    for (const { name, pod: spec, containers } of workloads) {
      const volumes = new Map<string, any>(spec.volumes.map((v: any) => [v.name, v]));
      for (const c of containers) {
        for (const mount of c.volumeMounts ?? [])
          expect([name, volumes.has(mount.name)]).toEqual([name, true]);
        const fileVariables = (c.env ?? []).filter((e: any) => e.name.endsWith('_FILE'));
        expect(fileVariables.length).toBeGreaterThan(0);
        for (const variable of fileVariables) {
          const mount = c.volumeMounts.find((m: any) => dirname(variable.value) === m.mountPath);
          const secret = mount && volumes.get(mount.name)?.secret;
          const item = secret?.items.find((i: any) => i.path === posix.basename(variable.value));
          expect([variable.name, mount?.readOnly, item?.key]).toEqual([
            variable.name,
            true,
            expect.any(String),
          ]);
          expect([variable.name, DOCUMENTED_VARIABLES.has(variable.name.slice(0, -'_FILE'.length))]).toEqual([
            variable.name,
            true,
          ]);
        }
        // A secret given in clear next to its file would defeat the point.
        const direct = (c.env ?? []).filter((e: any) => e.value !== undefined && !e.name.endsWith('_FILE'));
        expect(
          direct.map((e: any) => e.name).filter((n: string) => /SECRET|PASSWORD|TOKEN|KEY|_URL$/.test(n)),
        ).toEqual([]);
      }
    }
    const configured = [
      ...Object.keys(config),
      ...container.env.map((e: any) => e.name.replace(/_FILE$/, '')),
    ];
    const undocumented = configured.filter((n) => !DOCUMENTED_VARIABLES.has(n) && !RUNTIME_VARIABLES.has(n));
    expect(undocumented).toEqual([]);
  });

  it("selects the Deployment's pods (and only them) from the Service, the PDB and the ServiceMonitor", () => {
    const podLabels = deployment.spec.template.metadata.labels;
    const jobLabels = job.spec.template.metadata.labels;
    expect(selects(deployment.spec.selector.matchLabels, podLabels)).toBe(true);
    for (const selector of [service.spec.selector, pdb.spec.selector.matchLabels]) {
      expect(selects(selector, podLabels)).toBe(true);
      expect(selects(selector, jobLabels)).toBe(false);
    }
    expect(selects(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
    const [endpoint] = monitor.spec.endpoints;
    expect(service.spec.ports.map((p: any) => p.name)).toContain(endpoint.port);
    expect(endpoint.path).toBe('/metrics');
    expect(API).toContain('| GET /metrics | optional `METRICS_TOKEN` bearer |');
    // Prometheus presents the very token the pods read.
    const tokenFile = posix.basename(env(container, 'METRICS_TOKEN_FILE')!);
    const secretVolume = pod.volumes.find((v: any) => v.secret).secret;
    expect(endpoint.authorization).toEqual({
      type: 'Bearer',
      credentials: {
        name: secretVolume.secretName,
        key: secretVolume.items.find((i: any) => i.path === tokenFile).key,
      },
    });
  });

  it('scales the Deployment on CPU from its replica count, and lets disruptions take one pod at a time', () => {
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    expect(deployment.spec.replicas).toBe(3);
    expect(hpa.spec.minReplicas).toBe(deployment.spec.replicas);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.metrics.map((m: any) => m.resource?.name)).toEqual(['cpu']);
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it("runs the release's pinned image in the Deployment and in the migration Job", () => {
    const images = workloads.flatMap((w) => w.containers.map((c: any) => c.image));
    for (const image of images) expect(image).toBe(`auth-service:${PACKAGE.version}`);
    expect(images.some((i) => i.endsWith(':latest'))).toBe(false);
    expect(job.metadata.name).toBe(`auth-service-migrate-${PACKAGE.version.replace(/\./g, '-')}`);
  });

  it('migrates with the Job only, through the migration runner the built image contains', () => {
    expect(env(container, 'DB_MIGRATE_ON_START')).toBe('false');
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    const [migrate] = job.spec.template.spec.containers;
    expect(migrate.command.slice(0, 2)).toEqual(['node', '-e']);
    const script: string = migrate.command[2];
    const runner = /require\('\.\/(dist\/[^']+)'\)/.exec(script)?.[1];
    const migrationsDir = /applyMigrations\(url, '([^']+)'\)/.exec(script)?.[1];
    // dist/ mirrors the sources (nest build of tsconfig.build.json); the image copies dist/ and
    // prisma/migrations into its working directory /app.
    const source = `${runner?.replace(/^dist\//, '')}.ts`;
    expect(read(source)).toMatch(/export async function applyMigrations\(/);
    expect(JSON.parse(read('tsconfig.build.json')).include).toContain('libs/**/*.ts');
    const dockerfile = read('Dockerfile');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toContain('WORKDIR /app');
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    expect(runtime).toContain(`COPY --from=build /app/prisma/migrations ./${migrationsDir}`);
    // The image has production dependencies only: the runner may import nothing else.
    const imports = [...read(source).matchAll(/from '([^']+)'/g)].map((m) => m[1]!); // the group always matches
    expect(imports.filter((i) => !i.startsWith('node:') && !(i in PACKAGE.dependencies))).toEqual([]);
    // The Job reads the database URL and nothing else.
    const [secretVolume] = job.spec.template.spec.volumes;
    expect(secretVolume.secret.items.map((i: any) => i.key)).toEqual(['database-url']);
  });

  it('runs non-root, with a read-only root filesystem, no privilege escalation and no capabilities', () => {
    for (const { name, pod: spec, containers } of workloads) {
      expect([name, spec.automountServiceAccountToken]).toEqual([name, false]);
      expect([name, spec.securityContext.runAsNonRoot, spec.securityContext.runAsUser > 0]).toEqual([
        name,
        true,
        true,
      ]);
      for (const c of containers) {
        expect([name, c.securityContext]).toEqual([
          name,
          {
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
        ]);
      }
    }
  });

  it("pauses before SIGTERM, and gives the service's stop its time within the grace period", () => {
    const [sleep, seconds] = container.lifecycle.preStop.exec.command;
    expect(sleep).toBe('sleep');
    expect(Number(seconds)).toBeGreaterThanOrEqual(MIN_PRESTOP_SECONDS);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(Number(seconds) + SERVICE_STOP_SECONDS);
  });

  it('sizes resources within their limits, and the heap, hashing and connection pools within budget', () => {
    for (const { containers } of workloads) {
      for (const { resources } of containers) {
        expect(cpuCores(resources.requests.cpu)).toBeLessThanOrEqual(cpuCores(resources.limits.cpu));
        expect(memoryMiB(resources.requests.memory)).toBeLessThanOrEqual(memoryMiB(resources.limits.memory));
      }
    }
    const { requests, limits } = container.resources;
    // Another heap cap or hash count needs a new measurement (deploy/README.md, "Sizing").
    expect({
      NODE_OPTIONS: config.NODE_OPTIONS,
      PASSWORD_HASH_CONCURRENCY: config.PASSWORD_HASH_CONCURRENCY,
    }).toEqual(MEASURED_WITH);
    const hashes = Number(config.PASSWORD_HASH_CONCURRENCY);
    // One core of the limit stays with the event loop while hashes run.
    expect(hashes).toBeLessThanOrEqual(cpuCores(limits.cpu) - 1);
    expect(MEASURED_PEAK_MIB + (hashes - 1) * ARGON2_MIB).toBeLessThanOrEqual(
      memoryMiB(limits.memory) * LIMIT_HEADROOM,
    );
    expect(memoryMiB(requests.memory)).toBeGreaterThanOrEqual(MEASURED_LOADED_MIB);
    const jobConnections = 1;
    expect(Number(config.DATABASE_POOL_SIZE) * hpa.spec.maxReplicas + jobConnections).toBeLessThanOrEqual(
      POSTGRES_CONNECTIONS,
    );
  });

  it('configures Redis for its topology', () => {
    const keys = Object.keys(config).filter((k) => k.startsWith('REDIS_'));
    expect(keys.sort()).toEqual(Object.keys(redis).sort());
    for (const [key, expected] of Object.entries(redis)) {
      if (typeof expected === 'string') expect(config[key]).toBe(expected);
      else expect(config[key]).toMatch(expected);
    }
    for (const list of [config.REDIS_NODES, config.REDIS_SENTINELS].filter((l): l is string => !!l)) {
      for (const address of list.split(',')) expect(address).toMatch(/^[a-z0-9.-]+:\d+$/);
    }
  });
});

describe('Compose profile `cluster`: three instances behind nginx on a 6-node Redis Cluster', () => {
  const { services } = readCompose(join(ROOT, 'docker-compose.yml'));
  const names = Object.keys(services);
  /** The service of that name; fails the test when the file has none. */
  const service = (name: string): ComposeService => {
    const found = services[name];
    if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
    return found;
  };
  const inProfile = names.filter((n) => service(n).profiles?.includes('cluster'));
  const redisNodes = inProfile.filter(
    (n) => service(n).image?.startsWith('redis:') && /^redis-node-\d$/.test(n),
  );
  const instances = inProfile.filter((n) => service(n).build === '.');
  const balancer = inProfile.find((n) => service(n).image?.startsWith('nginx:'));
  const init = inProfile.find((n) => /--cluster create/.test(String(service(n).command)));

  it('runs 6 cluster-enabled Redis nodes, a one-shot cluster creation over all of them, 3 instances and nginx', () => {
    expect(redisNodes).toHaveLength(6);
    for (const node of redisNodes)
      expect(service(node).command).toEqual(expect.arrayContaining(['--cluster-enabled']));
    const script = String(service(init!).command);
    for (const node of redisNodes) expect(script).toContain(node);
    expect(script).toContain('--cluster-replicas 1');
    // Compose interpolates a lone `$` (to an empty string when unset): the shell's must be `$$`.
    expect(script.replace(/\$\$/g, '')).not.toContain('$');
    expect(instances).toHaveLength(3);
    expect(balancer).toBeDefined();
    for (const image of Object.values(services).flatMap((s) => (s.image ? [s.image] : []))) {
      expect(image).toMatch(/^[a-z0-9./-]+:(?!latest$)[\w.-]+$/);
    }
  });

  it('points every instance at the cluster (no single Redis URL) and at one PostgreSQL', () => {
    const databases = new Set(instances.map((n) => service(n).environment!.DATABASE_URL));
    expect(databases.size).toBe(1);
    for (const instance of instances) {
      const environment = service(instance).environment!;
      expect(environment.REDIS_MODE).toBe('cluster');
      expect(environment.REDIS_URL).toBeUndefined();
      const seeds = environment.REDIS_NODES?.split(',') ?? [];
      expect(seeds.length).toBeGreaterThan(0);
      for (const seed of seeds) expect(redisNodes).toContain(beforeFirst(seed, ':'));
      expect(environment.TRUST_PROXY).toBe('1');
      expect(dependencies(service(instance))[init!]).toBe('service_completed_successfully');
    }
    // The single instance (no profile) keeps its own database: its cache is not the cluster's.
    expect(databases).not.toContain(service('auth-service').environment!.DATABASE_URL);
  });

  it('depends only on services that exist and run with it, each waited for in a way it can satisfy', () => {
    const dockerfileHasHealthcheck = read('Dockerfile').includes('\nHEALTHCHECK ');
    for (const [name, dependent] of Object.entries(services)) {
      for (const [target, condition] of Object.entries(dependencies(dependent))) {
        expect([name, target, names.includes(target)]).toEqual([name, target, true]);
        // A service outside the profile cannot wait for one that only runs with it.
        if (!dependent.profiles)
          expect([name, target, service(target).profiles]).toEqual([name, target, undefined]);
        const canBeHealthy =
          !!service(target).healthcheck || (service(target).build === '.' && dockerfileHasHealthcheck);
        if (condition === 'service_healthy')
          expect([name, target, canBeHealthy]).toEqual([name, target, true]);
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition);
      }
    }
  });

  it('publishes each host port once, with every profile up', () => {
    const published = Object.values(services).flatMap(hostPorts);
    expect(published.length).toBeGreaterThan(0);
    expect(new Set(published).size).toBe(published.length);
  });

  it("balances over exactly the instances, on the port they listen on, with nginx's config from the repo", () => {
    const mount = service(balancer!).volumes!.find((v) => v.includes('/etc/nginx/'))!;
    const source = beforeFirst(mount, ':');
    expect(existsSync(join(ROOT, source))).toBe(true);
    const upstreams = Object.values(nginxUpstreams(readFileSync(join(ROOT, source), 'utf8')));
    expect(upstreams).toHaveLength(1);
    const port = (n: string) => service(n).environment?.PORT ?? '3000';
    expect([...upstreams[0]!].sort()).toEqual(instances.map((n) => `${n}:${port(n)}`).sort());
    expect(Object.keys(dependencies(service(balancer!))).sort()).toEqual([...instances].sort());
  });
});
