import { DynamicModule, Global, Module } from '@nestjs/common';
import { DatabaseConnection } from './database-connection';
import { DATABASE_OPTIONS, DatabaseOptions } from './database.options';
import { PrismaService } from './prisma.service';
import { ReadReplicas } from './read-replicas';

@Global()
@Module({})
export class DatabaseModule {
  static forRootAsync(options: {
    imports?: DynamicModule['imports'];
    inject?: unknown[];
    useFactory: (...args: never[]) => DatabaseOptions;
  }): DynamicModule {
    return {
      module: DatabaseModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide: DATABASE_OPTIONS,
          inject: (options.inject ?? []) as never[],
          useFactory: options.useFactory as (...args: unknown[]) => DatabaseOptions,
        },
        {
          provide: PrismaService,
          inject: [DATABASE_OPTIONS],
          useFactory: async (opts: DatabaseOptions) =>
            PrismaService.create(await DatabaseConnection.open(opts), opts.poolSize),
        },
        ReadReplicas,
      ],
      exports: [PrismaService, ReadReplicas],
    };
  }
}
