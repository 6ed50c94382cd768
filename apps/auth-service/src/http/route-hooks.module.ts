import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { RouteHooksRegistrar } from './route-hooks.registrar';

/** Attaches and checks the route hooks declared on controller methods (imported once, by AppModule). */
@Module({ imports: [DiscoveryModule], providers: [RouteHooksRegistrar] })
export class RouteHooksModule {}
