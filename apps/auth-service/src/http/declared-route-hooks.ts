import type { Type } from '@nestjs/common';
import type { HookName, OnSendHook, RouteHook } from './route-hooks';

/**
 * An answer from memory: a hook that answers its route before Nest's guards, pipes and
 * interceptors run, when everything the answer needs is in memory, and else lets the request go
 * on (calls `done()`). Declared on the controller method with @AnswerFromMemory(Class).
 */
export interface FastPath {
  readonly stage: HookName;
  readonly hook: RouteHook;
}

/**
 * The class of a fast path. `runs` lists the guards and interceptors of its route that it runs
 * itself (or whose refusals it leaves to them by not answering): the start fails when its route
 * carries any other, since the fast path would skip it.
 */
export interface FastPathType extends Type<FastPath> {
  readonly runs: readonly Type[];
}

/**
 * A global guard or interceptor that only acts on routes carrying its own metadata (e.g.
 * RateLimitGuard and @RateLimit): a fast path need not run it on the other routes.
 */
export interface RouteScoped {
  appliesTo(handler: object, controller: Type): boolean;
}

export type DeclaredRouteHook =
  | { kind: 'answer-from-memory'; type: FastPathType }
  | { kind: 'on-send'; type: Type; hook: (instance: never) => OnSendHook };

const ROUTE_HOOKS = Symbol('ROUTE_HOOKS');

function declare(hook: DeclaredRouteHook): MethodDecorator {
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const declared = (Reflect.getMetadata(ROUTE_HOOKS, method) as DeclaredRouteHook[] | undefined) ?? [];
    Reflect.defineMetadata(ROUTE_HOOKS, [...declared, hook], method);
    return descriptor;
  };
}

/**
 * This route may be answered from memory by `type` (a provider of the controller's module or
 * one it imports). RouteHooksRegistrar attaches it to the route as Nest registers it.
 */
export const AnswerFromMemory = (type: FastPathType): MethodDecorator =>
  declare({ kind: 'answer-from-memory', type });

/**
 * An onSend hook of `type`'s instance sees every answer of this route, and of no other (counting
 * outcomes: a global hook would cost every request), e.g. `@OnRouteSend(AuthMetrics, (m) => m.countLogin)`.
 */
export const OnRouteSend = <T>(type: Type<T>, hook: (instance: T) => OnSendHook): MethodDecorator =>
  declare({ kind: 'on-send', type, hook });

/** The hooks declared on a controller method. */
export function declaredRouteHooks(method: object): DeclaredRouteHook[] {
  return (Reflect.getMetadata(ROUTE_HOOKS, method) as DeclaredRouteHook[] | undefined) ?? [];
}
