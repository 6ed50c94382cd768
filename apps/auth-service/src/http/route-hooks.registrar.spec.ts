import 'reflect-metadata';
import {
  CallHandler,
  CanActivate,
  Controller,
  Get,
  Injectable,
  Module,
  NestInterceptor,
  Type,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Observable } from 'rxjs';
import { API_PREFIX } from './api-prefix';
import { AnswerFromMemory, FastPath, OnRouteSend } from './declared-route-hooks';
import { OnSendHook, RouteHook } from './route-hooks';
import { RouteHooksModule } from './route-hooks.module';

@Injectable()
class CheckedGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Injectable()
class OtherGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Injectable()
class OtherInterceptor implements NestInterceptor {
  intercept(_context: unknown, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

/** Answers `{ from: 'memory' }` when the request says `x-in-memory: yes`; else lets it go on. */
@Injectable()
class Remembered implements FastPath {
  static readonly runs = [CheckedGuard];
  readonly stage = 'onRequest';
  readonly hook: RouteHook = (request, reply, done) => {
    if (request.headers['x-in-memory'] !== 'yes') return done();
    void reply.send({ from: 'memory' });
  };
}

@Injectable()
class Answers {
  readonly seen: number[] = [];
  readonly record: OnSendHook = (_request, reply, payload, done) => {
    this.seen.push(reply.statusCode);
    done(null, payload);
  };
}

/** A global guard that only acts on routes marked `acts` (as RateLimitGuard on @RateLimit routes). */
@Injectable()
class ScopedGlobalGuard implements CanActivate {
  static appliesTo(handler: object): boolean {
    return Reflect.getMetadata('acts', handler) === true;
  }
  canActivate(): boolean {
    return true;
  }
}

@Controller('things')
class DeclaredController {
  @Get(':id')
  @UseGuards(CheckedGuard)
  @AnswerFromMemory(Remembered)
  @OnRouteSend(Answers, (answers) => answers.record)
  one(): { from: string } {
    return { from: 'controller' };
  }
}

async function start(controller: Type, extra: object[] = []): Promise<NestFastifyApplication> {
  @Module({
    imports: [RouteHooksModule],
    controllers: [controller],
    providers: [CheckedGuard, OtherGuard, OtherInterceptor, Remembered, Answers, ...(extra as Type[])],
  })
  class TestModule {}
  const app = await NestFactory.create<NestFastifyApplication>(TestModule, new FastifyAdapter(), {
    logger: false,
    abortOnError: false,
  });
  app.setGlobalPrefix(API_PREFIX);
  try {
    await app.init();
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

describe('RouteHooksRegistrar', () => {
  it('attaches a declared fast path and onSend hook to the URL Nest gives the route (global prefix included)', async () => {
    const app = await start(DeclaredController);
    try {
      const fastify = app.getHttpAdapter().getInstance();
      const url = `/${API_PREFIX}/things/42`;
      const fast = await fastify.inject({ method: 'GET', url, headers: { 'x-in-memory': 'yes' } });
      expect(fast.json()).toEqual({ from: 'memory' });
      const slow = await fastify.inject({ method: 'GET', url });
      expect(slow.json()).toEqual({ from: 'controller' });
      expect(app.get(Answers).seen).toEqual([200, 200]);
    } finally {
      await app.close();
    }
  });

  it('fails the start when a declared hook attaches to no route', async () => {
    @Controller('things')
    class NotARoute {
      @AnswerFromMemory(Remembered)
      helper(): void {}
    }
    await expect(start(NotARoute)).rejects.toThrow(
      /@AnswerFromMemory\(Remembered\) on NotARoute\.helper attached to no route/,
    );
  });

  it("fails the start when the route has a guard the fast path does not declare it runs (the method's)", async () => {
    @Controller('things')
    class ExtraGuard {
      @Get(':id')
      @UseGuards(CheckedGuard, OtherGuard)
      @AnswerFromMemory(Remembered)
      one(): void {}
    }
    await expect(start(ExtraGuard)).rejects.toThrow(/on ExtraGuard\.one would skip OtherGuard/);
  });

  it("fails the start when the route has an interceptor the fast path does not declare (the controller's)", async () => {
    @Controller('things')
    @UseInterceptors(OtherInterceptor)
    class ExtraInterceptor {
      @Get(':id')
      @AnswerFromMemory(Remembered)
      one(): void {}
    }
    await expect(start(ExtraInterceptor)).rejects.toThrow(/would skip OtherInterceptor/);
  });

  it('fails the start for a global guard, unless it says it does not act on that route', async () => {
    await expect(start(DeclaredController, [{ provide: APP_GUARD, useClass: OtherGuard }])).rejects.toThrow(
      /on DeclaredController\.one would skip OtherGuard/,
    );
    const app = await start(DeclaredController, [{ provide: APP_GUARD, useClass: ScopedGlobalGuard }]);
    await app.close();
  });
});
