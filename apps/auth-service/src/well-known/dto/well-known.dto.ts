import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** One public key (RFC 7517); which fields are present depends on `kty`. */
class JwkDto {
  @ApiProperty({ enum: ['OKP', 'EC', 'RSA'] }) kty!: string;
  @ApiProperty() kid!: string;
  @ApiProperty({ enum: ['EdDSA', 'ES256', 'RS256'] }) alg!: string;
  @ApiProperty({ enum: ['sig'] }) use!: string;
  @ApiPropertyOptional({ description: 'OKP, EC: the curve' }) crv?: string;
  @ApiPropertyOptional({ description: 'OKP, EC: the public point' }) x?: string;
  @ApiPropertyOptional({ description: 'EC' }) y?: string;
  @ApiPropertyOptional({ description: 'RSA modulus' }) n?: string;
  @ApiPropertyOptional({ description: 'RSA exponent' }) e?: string;
}

export class JwksDto {
  @ApiProperty({ type: [JwkDto], description: 'The current and previous public signing keys' })
  keys!: JwkDto[];
}

export class OpenIdConfigurationDto {
  @ApiProperty() issuer!: string;
  @ApiProperty() jwks_uri!: string;
  @ApiProperty() introspection_endpoint!: string;
  @ApiProperty({ type: [String] }) introspection_endpoint_auth_methods_supported!: string[];
  @ApiProperty() token_endpoint!: string;
  @ApiProperty() userinfo_endpoint!: string;
  @ApiProperty() revocation_endpoint!: string;
  @ApiProperty({ type: [String] }) response_types_supported!: string[];
  @ApiProperty({ type: [String] }) grant_types_supported!: string[];
  @ApiProperty({ type: [String] }) subject_types_supported!: string[];
  @ApiProperty({ type: [String] }) id_token_signing_alg_values_supported!: string[];
  @ApiProperty({ type: [String] }) access_token_signing_alg_values_supported!: string[];
  @ApiProperty({ type: [String] }) claims_supported!: string[];
}
