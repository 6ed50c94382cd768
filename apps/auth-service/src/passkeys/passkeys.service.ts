import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  generateRegistrationOptions,
  verifyRegistrationResponse,
  type AuthenticatorTransport,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { ApiError } from '../common/api-error';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import type { EventClient } from '../events/event-types';
import type { PublicUser } from '../users/public-user';
import { challengeOf, invalidPasskey } from './invalid-passkey';
import { PasskeysRepository, PasskeyView } from './passkeys.repository';
import { CHALLENGE_TTL_SECONDS, WebauthnChallengesRepository } from './webauthn-challenges.repository';
import { webauthnUserId } from './webauthn-user-id';

const DEFAULT_NAME = 'Passkey';

/** A signed-in user's passkeys: register (options, then the authenticator's answer), list, delete. */
@Injectable()
export class PasskeysService {
  private readonly logger = new Logger(PasskeysService.name);

  constructor(
    private readonly passkeys: PasskeysRepository,
    private readonly challenges: WebauthnChallengesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Options for `navigator.credentials.create`: a discoverable credential with user verification. */
  async registrationOptions(user: PublicUser): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.passkeys.credentialsOf(user.id);
    const options = await generateRegistrationOptions({
      rpName: this.config.webauthn.rpName,
      rpID: this.config.webauthn.rpId,
      userID: webauthnUserId(user.id),
      userName: user.email,
      userDisplayName: user.name ?? user.email,
      timeout: CHALLENGE_TTL_SECONDS * 1000,
      attestationType: 'none',
      excludeCredentials: existing.map((c) => ({
        id: c.credentialId,
        transports: c.transports as AuthenticatorTransport[],
      })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
    await this.challenges.create(options.challenge, 'registration', user.id);
    return options;
  }

  /**
   * Verifies the authenticator's answer against a challenge this user was given (spent here
   * whatever the outcome) and stores the credential. Every failure is `invalid_passkey`.
   */
  async register(
    userId: string,
    response: unknown,
    name: string | undefined,
    client: EventClient,
  ): Promise<PasskeyView> {
    const challenge = challengeOf(response);
    if (!challenge || !(await this.challenges.consumeRegistration(challenge, userId))) {
      throw invalidPasskey('registration');
    }
    const verification = await verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: this.config.webauthn.origins,
      expectedRPID: this.config.webauthn.rpId,
      requireUserVerification: true,
    }).catch((error: unknown) => this.refused(error));
    if (!verification?.verified) throw invalidPasskey('registration');
    const { credential, credentialDeviceType, credentialBackedUp } = verification.registrationInfo;
    const created = await this.passkeys.add(
      {
        userId,
        credentialId: credential.id,
        publicKey: credential.publicKey,
        counter: credential.counter,
        transports: credential.transports ?? [],
        deviceType: credentialDeviceType,
        backedUp: credentialBackedUp,
        name: name ?? DEFAULT_NAME,
      },
      client,
    );
    // The authenticator ignored excludeCredentials: this credential is registered already.
    if (!created) throw invalidPasskey('registration');
    return created;
  }

  list(userId: string): Promise<PasskeyView[]> {
    return this.passkeys.list(userId);
  }

  async remove(userId: string, id: string, client: EventClient): Promise<void> {
    if (!(await this.passkeys.remove(userId, id, client))) throw passkeyNotFound();
  }

  private refused(error: unknown): null {
    this.logger.debug(`passkey registration refused: ${(error as Error)?.message ?? String(error)}`);
    return null;
  }
}

export const passkeyNotFound = () => new ApiError('passkey_not_found', 'No such passkey');
