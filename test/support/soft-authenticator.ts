import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { encodeCBOR, type CBORType } from '@levischuck/tiny-cbor';

/** authenticatorData flags (WebAuthn §6.1): user present, user verified, attested credential data. */
const UP = 0x01;
const UV = 0x04;
const AT = 0x40;

const b64u = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');

/** What a ceremony may get wrong on purpose. */
export interface Tampering {
  origin?: string;
  rpId?: string;
  challenge?: string;
  /** Clear the UV flag: the user was present but not verified. */
  unverified?: boolean;
  /** Sign with this counter instead of the next one. */
  counter?: number;
  /** Flip a byte of the signature. */
  badSignature?: boolean;
}

/**
 * A software WebAuthn authenticator: one discoverable ES256 credential, `none` attestation,
 * authenticatorData built byte by byte (rpIdHash, flags, counter, attested credential data with
 * the COSE key), CBOR through @levischuck/tiny-cbor (what @simplewebauthn/server decodes with).
 */
export class SoftAuthenticator {
  readonly credentialId = randomBytes(16);
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  /** The user handle stored with the credential at registration. */
  userHandle: string | undefined;
  counter = 0;

  constructor(
    private readonly rp: { id: string; origin: string },
    /** Whether each signature bumps the counter (false: an authenticator that keeps none, always 0). */
    private readonly counts = true,
  ) {}

  get id(): string {
    return b64u(this.credentialId);
  }

  /** The RegistrationResponseJSON for PublicKeyCredentialCreationOptionsJSON `options`. */
  register(
    options: { challenge: string; user: { id: string } },
    tamper: Tampering = {},
  ): Record<string, unknown> {
    this.userHandle = options.user.id;
    const jwk = this.keys.publicKey.export({ format: 'jwk' });
    const coseKey = new Map<number, number | Uint8Array>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, Buffer.from(jwk.x!, 'base64url')],
      [-3, Buffer.from(jwk.y!, 'base64url')],
    ]);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([
      this.header(tamper, AT, this.counter),
      Buffer.alloc(16), // AAGUID: zero for `none` attestation
      idLength,
      this.credentialId,
      Buffer.from(encodeCBOR(coseKey)),
    ]);
    const attestationObject = encodeCBOR(
      new Map<string, CBORType>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, CBORType>()],
        ['authData', authData],
      ]),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: this.clientData('webauthn.create', options.challenge, tamper),
        attestationObject: b64u(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** The AuthenticationResponseJSON for PublicKeyCredentialRequestOptionsJSON `options`. */
  authenticate(options: { challenge: string }, tamper: Tampering = {}): Record<string, unknown> {
    const counter = tamper.counter ?? (this.counts ? this.counter + 1 : 0);
    if (tamper.counter === undefined) this.counter = counter;
    const authData = this.header(tamper, 0, counter);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, tamper);
    const signed = Buffer.concat([
      authData,
      createHash('sha256').update(Buffer.from(clientDataJSON, 'base64url')).digest(),
    ]);
    const signature = sign('sha256', signed, this.keys.privateKey);
    if (tamper.badSignature) signature[signature.length - 1]! ^= 0xff;
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON,
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        userHandle: this.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** rpIdHash (32) | flags (1) | signCount (4, big-endian). */
  private header(tamper: Tampering, extraFlags: number, counter: number): Buffer {
    const flags = Buffer.from([UP | (tamper.unverified ? 0 : UV) | extraFlags]);
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([
      createHash('sha256')
        .update(tamper.rpId ?? this.rp.id)
        .digest(),
      flags,
      count,
    ]);
  }

  private clientData(type: string, challenge: string, tamper: Tampering): string {
    return b64u(
      JSON.stringify({
        type,
        challenge: tamper.challenge ?? challenge,
        origin: tamper.origin ?? this.rp.origin,
        crossOrigin: false,
      }),
    );
  }
}
