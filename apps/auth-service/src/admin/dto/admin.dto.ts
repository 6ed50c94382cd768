import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsString, IsUUID, Matches, MaxLength } from 'class-validator';

export class BulkSyncDto {
  @ApiProperty({ type: [String], maxItems: 1000, description: 'User ids to re-read into the cache' })
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  userIds!: string[];
}

export class InvalidateTagDto {
  @ApiProperty({ example: 'user:5f0c…', description: 'Every cache entry carrying this tag is removed' })
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9:._-]+$/, { message: 'tag must be letters, digits and : . _ -' })
  tag!: string;
}
