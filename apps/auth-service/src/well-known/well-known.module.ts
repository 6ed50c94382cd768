import { Module } from '@nestjs/common';
import { TokensModule } from '../tokens/tokens.module';
import { WellKnownController } from './well-known.controller';

@Module({ imports: [TokensModule], controllers: [WellKnownController] })
export class WellKnownModule {}
