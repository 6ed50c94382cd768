import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, ValidateIf } from 'class-validator';

export class UpdateUserDto {
  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100, description: 'null clears it' })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @Length(1, 100)
  name?: string | null;
}
