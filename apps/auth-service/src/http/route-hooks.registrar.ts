import { Injectable, OnModuleInit, RequestMethod, Type } from '@nestjs/common';
import {
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
  VERSION_METADATA,
} from '@nestjs/common/constants';
import {
  ApplicationConfig,
  DiscoveryService,
  HttpAdapterHost,
  MetadataScanner,
  ModuleRef,
} from '@nestjs/core';
import { RoutePathFactory } from '@nestjs/core/router/route-path-factory.js';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { DeclaredRouteHook, declaredRouteHooks, FastPath, RouteScoped } from './declared-route-hooks';
import { appendRouteHook } from './route-hooks';

/** One hook declared on one controller method. */
interface Declaration {
  where: string;
  controller: Type;
  handler: object;
  method: string;
  paths: (string | undefined)[];
  declared: DeclaredRouteHook;
  attachedTo: string[];
}

/**
 * Attaches the hooks declared on controller methods (@AnswerFromMemory, @OnRouteSend) to their
 * routes as Nest registers them with fastify, the URL being the one Nest builds from the route's
 * metadata and the global prefix. Then, before the application starts, fails it when a declared
 * hook attached to nothing, or when a route answered from memory carries a guard or interceptor
 * its fast path does not declare that it runs: either would silently skip something.
 */
@Injectable()
export class RouteHooksRegistrar implements OnModuleInit {
  private declarations?: Declaration[];

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly moduleRef: ModuleRef,
    private readonly appConfig: ApplicationConfig,
  ) {
    // fastify calls onRoute as Nest adds the routes, which happens after the providers are built
    // and before any module's init hook: so, here.
    this.adapterHost.httpAdapter
      ?.getInstance<FastifyInstance>()
      .addHook('onRoute', (route) => this.attach(route));
  }

  onModuleInit(): void {
    if (!this.adapterHost.httpAdapter) return;
    const problems = this.declared().flatMap((d) => this.problemsOf(d));
    if (problems.length > 0) throw new Error(`Declared route hooks: ${problems.join('; ')}`);
  }

  private attach(route: RouteOptions): void {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const d of this.declared()) {
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, d.handler) as RequestMethod];
      if (!methods.includes(method) || !this.urlsOf(d).includes(route.url)) continue;
      const instance = this.moduleRef.get<unknown>(d.declared.type, { strict: false });
      if (d.declared.kind === 'answer-from-memory') {
        const fastPath = instance as FastPath;
        appendRouteHook(route, fastPath.stage, fastPath.hook);
      } else {
        appendRouteHook(route, 'onSend', d.declared.hook(instance as never));
      }
      d.attachedTo.push(`${method} ${route.url}`);
    }
  }

  /** The URLs Nest gives the method's route, as RouterExplorer builds them. */
  private urlsOf(d: Declaration): string[] {
    const factory = new RoutePathFactory(this.appConfig);
    const requestMethod = Reflect.getMetadata(METHOD_METADATA, d.handler) as RequestMethod;
    const adapter = this.adapterHost.httpAdapter;
    return d.paths.flatMap((ctrlPath) =>
      factory
        .create(
          {
            ctrlPath,
            methodPath: addLeadingSlash(Reflect.getMetadata(PATH_METADATA, d.handler) as string),
            globalPrefix: this.appConfig.getGlobalPrefix(),
            controllerVersion: Reflect.getMetadata(VERSION_METADATA, d.controller) as string | undefined,
            methodVersion: Reflect.getMetadata(VERSION_METADATA, d.handler) as string | undefined,
            versioningOptions: this.appConfig.getVersioning(),
          },
          requestMethod,
        )
        .map((path) => adapter.normalizePath?.(path) ?? path),
    );
  }

  private declared(): Declaration[] {
    this.declarations ??= this.discovery.getControllers().flatMap(({ metatype }) => {
      if (!metatype) return [];
      const controller = metatype as Type;
      const paths = ([] as (string | undefined)[])
        .concat(Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined)
        .map((p) => (p === undefined ? undefined : addLeadingSlash(p)));
      const prototype = controller.prototype as Record<string, object>;
      return this.scanner.getAllMethodNames(prototype).flatMap((method) => {
        const handler = prototype[method];
        if (typeof handler !== 'function') return []; // the scanner names only methods
        return declaredRouteHooks(handler).map((declared) => ({
          where: `${controller.name}.${method}`,
          controller,
          handler,
          method,
          paths,
          declared,
          attachedTo: [],
        }));
      });
    });
    return this.declarations;
  }

  private problemsOf(d: Declaration): string[] {
    const name = `@${d.declared.kind === 'answer-from-memory' ? 'AnswerFromMemory' : 'OnRouteSend'}(${d.declared.type.name})`;
    if (d.attachedTo.length === 0) {
      return [`${name} on ${d.where} attached to no route (looked for ${this.urlsOf(d).join(', ')})`];
    }
    if (d.declared.kind !== 'answer-from-memory') return [];
    const runs = new Set<unknown>(d.declared.type.runs);
    const skipped = [
      ...this.enhancers(d, GUARDS_METADATA, [
        ...this.appConfig.getGlobalGuards(),
        ...this.appConfig.getGlobalRequestGuards().flatMap((w) => w.instance ?? []),
      ]),
      ...this.enhancers(d, INTERCEPTORS_METADATA, [
        ...this.appConfig.getGlobalInterceptors(),
        ...this.appConfig.getGlobalRequestInterceptors().flatMap((w) => w.instance ?? []),
      ]),
    ].filter((type) => !runs.has(type));
    return skipped.length === 0
      ? []
      : [
          `${name} on ${d.where} would skip ${skipped.map((t) => t.name).join(', ')}: ` +
            `run it in the fast path and list it in ${d.declared.type.name}.runs, or do not answer that route from memory`,
        ];
  }

  /** The guard (or interceptor) classes that act on the route: global, the controller's, the method's. */
  private enhancers(d: Declaration, key: string, globals: object[]): Type[] {
    const own = [
      ...((Reflect.getMetadata(key, d.controller) as object[] | undefined) ?? []),
      ...((Reflect.getMetadata(key, d.handler) as object[] | undefined) ?? []),
    ];
    const types = [...globals, ...own].map((e) => (typeof e === 'function' ? e : e.constructor) as Type);
    return [...new Set(types)].filter((type) => {
      const scoped = type as Partial<RouteScoped>;
      return typeof scoped.appliesTo !== 'function' || scoped.appliesTo(d.handler, d.controller);
    });
  }
}

function addLeadingSlash(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  return path.startsWith('/') ? path : `/${path}`;
}
