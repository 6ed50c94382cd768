import { Module } from '@nestjs/common';
import { IntrospectionModule } from '../introspection/introspection.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { SessionsModule } from '../sessions/sessions.module';
import { RevocationStreamController } from './revocation-stream.controller';
import { RevocationStreamMetrics } from './revocation-stream.metrics';
import { RevocationStream } from './revocation-stream.service';

/** GET /auth/revocations: the revocation log pushed to consuming services (API.md "Revocation stream"). */
@Module({
  imports: [SessionsModule, IntrospectionModule, RateLimitModule],
  controllers: [RevocationStreamController],
  providers: [RevocationStream, RevocationStreamMetrics],
})
export class RevocationStreamModule {}
