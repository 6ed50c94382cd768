import {
  DynamicModule,
  Inject,
  InjectionToken,
  Logger,
  Module,
  ModuleMetadata,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OptionalFactoryDependency,
  Provider,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthClient } from '../auth-client';
import { AuthClientOptions } from '../options';
import { AccessTokenGuard } from './access-token.guard';
import { AUTH_CLIENT_OPTIONS } from './constants';

export interface AuthClientModuleExtras {
  /**
   * Register the guard for every route of the app (opt out with `@Public()`). Default false:
   * protect routes with `@UseGuards(AccessTokenGuard)`.
   */
  guardAllRoutes?: boolean;
}

export type AuthClientModuleOptions = AuthClientOptions & AuthClientModuleExtras;

export interface AuthClientModuleAsyncOptions extends AuthClientModuleExtras {
  imports?: ModuleMetadata['imports'];
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  useFactory: (...args: never[]) => AuthClientOptions | Promise<AuthClientOptions>;
}

/**
 * Registers one AuthClient (keys and introspection answers cached for the whole app) and the
 * AccessTokenGuard, globally: any module's controllers can use the guard and decorators.
 */
@Module({})
export class AuthClientModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(AuthClient) private readonly client: AuthClient) {}

  static forRoot(options: AuthClientModuleOptions): DynamicModule {
    const { guardAllRoutes, ...clientOptions } = options;
    return AuthClientModule.build(
      { provide: AUTH_CLIENT_OPTIONS, useValue: clientOptions },
      guardAllRoutes,
      [],
    );
  }

  static forRootAsync(options: AuthClientModuleAsyncOptions): DynamicModule {
    return AuthClientModule.build(
      {
        provide: AUTH_CLIENT_OPTIONS,
        inject: options.inject ?? [],
        useFactory: options.useFactory as (...args: unknown[]) => AuthClientOptions,
      },
      options.guardAllRoutes,
      options.imports ?? [],
    );
  }

  private static build(
    optionsProvider: Provider,
    guardAllRoutes: boolean | undefined,
    imports: NonNullable<ModuleMetadata['imports']>,
  ): DynamicModule {
    return {
      module: AuthClientModule,
      global: true,
      imports,
      providers: [
        optionsProvider,
        {
          provide: AuthClient,
          inject: [AUTH_CLIENT_OPTIONS],
          useFactory: (options: AuthClientOptions) =>
            new AuthClient({ logger: new Logger('AuthClient'), ...options }),
        },
        AccessTokenGuard,
        ...(guardAllRoutes ? [{ provide: APP_GUARD, useExisting: AccessTokenGuard }] : []),
      ],
      exports: [AuthClient, AccessTokenGuard],
    };
  }

  /**
   * Loads the JWKS before the first request (bounded by `jwks.timeoutMs`; a failure is only
   * logged) and opens the revocation stream (push mode).
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.client.warmUp();
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}
