import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, RouteOptions } from 'fastify';

/** POST /admin/cache/bulk-sync takes up to 1000 UUIDs (~40 KB): above the service's 16 KiB body limit. */
const BULK_SYNC_BODY_LIMIT = 64 * 1024;

/**
 * Raises the body limit of the bulk-sync route only. Registered in the constructor: fastify calls
 * `onRoute` hooks as routes are added, which happens before modules' init hooks run.
 */
@Injectable()
export class AdminBodyLimit {
  constructor(adapterHost: HttpAdapterHost) {
    adapterHost.httpAdapter?.getInstance<FastifyInstance>().addHook('onRoute', (route: RouteOptions) => {
      if (route.url.endsWith('/admin/cache/bulk-sync')) route.bodyLimit = BULK_SYNC_BODY_LIMIT;
    });
  }
}
