import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PublicUserDto } from '../../users/dto/public-user.dto';
import { PageQueryDto } from '../../common/page-query.dto';

export class ListUsersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Part of the email or the name, case-insensitive', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  query?: string;
}

export class SetRolesDto {
  @ApiProperty({ type: [String], example: ['user', 'admin'], maxItems: 20 })
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @Matches(/^[a-z][a-z0-9_:-]{0,63}$/, {
    each: true,
    message: 'each role must be a lower-case letter then up to 63 of a-z 0-9 _ : -',
  })
  roles!: string[];
}

class MfaSummaryDto {
  @ApiProperty() totp!: boolean;
  @ApiProperty() passkeys!: number;
}

export class AdminUserDto extends PublicUserDto {
  @ApiProperty() disabled!: boolean;
  @ApiProperty({ type: MfaSummaryDto }) mfa!: MfaSummaryDto;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Start of the newest session',
  })
  lastLoginAt!: Date | null;
  @ApiProperty() activeSessions!: number;
}

export class AdminUserPageDto {
  @ApiProperty({ type: [AdminUserDto] }) items!: AdminUserDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}
