import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

export class OAuthProviderDto {
  @ApiProperty({ example: 'google' }) id!: string;
  @ApiProperty({ example: 'Google' }) name!: string;
}

export class LinkOAuthDto {
  @ApiProperty({
    description: 'Where the browser is sent once linked: exactly one of OAUTH_ALLOWED_REDIRECTS',
    example: 'https://app.example.com/settings/accounts',
  })
  @IsString()
  @MaxLength(2048)
  redirect_uri!: string;
}

export class AuthorizeUrlDto {
  @ApiProperty({ description: "The provider's authorization URL to send the browser to" })
  authorizeUrl!: string;
}

export class OAuthAccountDto {
  @ApiProperty({ example: 'github' }) provider!: string;
  @ApiProperty({ description: "The provider's id of the account" }) providerAccountId!: string;
  @ApiProperty({ type: String, nullable: true }) email!: string | null;
  @ApiProperty() linkedAt!: Date;
}
