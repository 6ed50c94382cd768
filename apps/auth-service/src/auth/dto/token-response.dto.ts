import { ApiProperty } from '@nestjs/swagger';
import { PublicUserDto } from '../../users/dto/public-user.dto';

export class TokenResponseDto {
  @ApiProperty({ description: 'JWT access token (typ at+jwt)' }) accessToken!: string;
  @ApiProperty({ example: 'Bearer' }) tokenType!: 'Bearer';
  @ApiProperty({ example: 900, description: 'Access token lifetime in seconds' }) expiresIn!: number;
  @ApiProperty({ description: 'Opaque refresh token; also set as the refresh_token cookie' })
  refreshToken!: string;
  @ApiProperty({ type: PublicUserDto }) user!: PublicUserDto;
}
