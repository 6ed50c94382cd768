import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, IsUUID, Length } from 'class-validator';

/** A passkey as its list answers it: never its public key or credential id. */
export class PasskeyDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'Laptop' }) name!: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastUsedAt!: Date | null;
}

// The WebAuthn JSON itself is checked by @simplewebauthn/server, where any fault is
// `invalid_passkey`; validation here only asks for an object.
const WEBAUTHN_JSON = {
  type: 'object',
  additionalProperties: true,
} as const;

export class RegisterPasskeyDto {
  @ApiProperty({
    ...WEBAUTHN_JSON,
    description:
      'The RegistrationResponseJSON of navigator.credentials.create (e.g. startRegistration of @simplewebauthn/browser)',
  })
  @IsObject()
  response!: Record<string, unknown>;

  @ApiPropertyOptional({ maxLength: 100, example: 'Laptop', description: 'Default: Passkey' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  name?: string;
}

export class AuthenticatePasskeyDto {
  @ApiProperty({ format: 'uuid', description: 'From POST /auth/passkeys/authentication/options' })
  @IsUUID('all', { message: 'challengeId must be the id given with the options' })
  challengeId!: string;

  @ApiProperty({
    ...WEBAUTHN_JSON,
    description:
      'The AuthenticationResponseJSON of navigator.credentials.get (e.g. startAuthentication of @simplewebauthn/browser)',
  })
  @IsObject()
  response!: Record<string, unknown>;
}

export class AuthenticationOptionsDto {
  @ApiProperty({ format: 'uuid', description: 'Names the challenge when the answer comes back' })
  challengeId!: string;

  @ApiProperty({
    ...WEBAUTHN_JSON,
    description: 'PublicKeyCredentialRequestOptionsJSON, empty allowCredentials (discoverable credentials)',
  })
  options!: Record<string, unknown>;
}

export class RegistrationOptionsDto {
  @ApiProperty({ type: String, description: 'Base64url; single use, valid 5 minutes' }) challenge!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: '{id, name} of the relying party' })
  rp!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, description: '{id, name, displayName}' })
  user!: Record<string, unknown>;
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } })
  pubKeyCredParams!: Record<string, unknown>[];
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: "The user's passkeys",
  })
  excludeCredentials!: Record<string, unknown>[];
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'residentKey and userVerification required',
  })
  authenticatorSelection!: Record<string, unknown>;
  @ApiProperty({ example: 300000 }) timeout!: number;
  @ApiProperty({ example: 'none' }) attestation!: string;
}
