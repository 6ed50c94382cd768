import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteOptions,
} from 'fastify';

export type HookName = 'onRequest' | 'preValidation' | 'preHandler';
export type RouteHook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;
export type OnSendHook = (
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  done: (error: null, payload: unknown) => void,
) => void;

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Adds a hook to the routes whose method can carry a body (fastify parses none for GET and HEAD),
 * instead of to every request: a global hook would cost the hot read paths for nothing. Must be
 * called before the routes are added (fastify calls `onRoute` as they are).
 */
export function addBodyRouteHook(fastify: FastifyInstance, name: HookName, hook: RouteHook): void {
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((m) => BODY_METHODS.has(m.toUpperCase()))) return;
    appendRouteHook(route, name, hook);
  });
}

/** Appends a hook to one route's own hooks of that name (fastify takes one function or a list). */
export function appendRouteHook(route: RouteOptions, name: HookName | 'onSend', hook: unknown): void {
  const hooks = route as unknown as Record<string, unknown>;
  const existing = hooks[name];
  hooks[name] = [...(Array.isArray(existing) ? (existing as unknown[]) : existing ? [existing] : []), hook];
}
