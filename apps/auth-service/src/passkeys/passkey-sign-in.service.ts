import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  generateAuthenticationOptions,
  verifyAuthenticationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { isUUID } from 'class-validator';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { hashSecretToken } from '../crypto/secret-tokens';
import { FailedLoginRecorder } from '../events/failed-login-recorder';
import { ClientInfo, SessionsService, TokenResponse } from '../sessions/sessions.service';
import { assertMaySignIn } from '../users/sign-in-policy';
import { UsersRepository } from '../users/users.repository';
import { invalidPasskey } from './invalid-passkey';
import { PasskeysRepository, StoredCredential } from './passkeys.repository';
import { CHALLENGE_TTL_SECONDS, WebauthnChallengesRepository } from './webauthn-challenges.repository';
import { webauthnUserHandle } from './webauthn-user-id';

const MAX_CREDENTIAL_ID = 1024;

/**
 * Sign-in with a discoverable credential: the browser picks the passkey, its user handle names
 * the user. User verification is required, so the passkey is both factors at once.
 */
@Injectable()
export class PasskeySignInService {
  private readonly logger = new Logger(PasskeySignInService.name);

  constructor(
    private readonly passkeys: PasskeysRepository,
    private readonly challenges: WebauthnChallengesRepository,
    private readonly users: UsersRepository,
    private readonly sessions: SessionsService,
    private readonly failedLogins: FailedLoginRecorder,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async options(): Promise<{ challengeId: string; options: PublicKeyCredentialRequestOptionsJSON }> {
    const options = await generateAuthenticationOptions({
      rpID: this.config.webauthn.rpId,
      allowCredentials: [],
      userVerification: 'required',
      timeout: CHALLENGE_TTL_SECONDS * 1000,
    });
    const challengeId = await this.challenges.create(options.challenge, 'authentication', null);
    return { challengeId, options };
  }

  /**
   * The challenge is spent first, whatever follows: an answer is tried once. Every failure before
   * the user is known is `invalid_passkey`; a disabled account is told only to a valid passkey.
   * Each refusal is a `login.failed` event (reason `invalid_passkey`), naming the credential's
   * owner once the credential is known and its handle is the owner's.
   */
  async signIn(challengeId: string, response: unknown, client: ClientInfo): Promise<TokenResponse> {
    const refused = (userId: string | null) => {
      this.failedLogins.recordPasskey(userId, client);
      return invalidPasskey('authentication');
    };
    const challengeHash = isUUID(challengeId)
      ? await this.challenges.consumeAuthentication(challengeId)
      : null;
    if (!challengeHash) throw refused(null);
    const credentialId = (response as { id?: unknown }).id;
    if (typeof credentialId !== 'string' || credentialId.length > MAX_CREDENTIAL_ID) {
      throw refused(null);
    }
    const stored = await this.passkeys.findByCredentialId(credentialId);
    // A handle naming someone else: the presenter is not the credential's owner, so no user is named.
    if (!stored || !this.handleNamesOwner(response, stored)) throw refused(null);
    const newCounter = await this.verify(response, stored, challengeHash);
    if (newCounter === null || !(await this.passkeys.recordUse(stored.id, stored.counter, newCounter))) {
      throw refused(stored.userId);
    }
    const account = await this.users.getCredentialsById(stored.userId);
    if (!account) throw invalidPasskey('authentication');
    assertMaySignIn(account);
    const user = await this.users.getById(stored.userId);
    if (!user) throw invalidPasskey('authentication');
    return this.sessions.start(user, client, { method: 'passkey' });
  }

  /** The new signature counter, or null when the assertion fails (a counter gone backwards included). */
  private async verify(
    response: unknown,
    stored: StoredCredential,
    challengeHash: string,
  ): Promise<number | null> {
    try {
      const result = await verifyAuthenticationResponse({
        response: response as AuthenticationResponseJSON,
        expectedChallenge: (challenge) => hashSecretToken(challenge) === challengeHash,
        expectedOrigin: this.config.webauthn.origins,
        expectedRPID: this.config.webauthn.rpId,
        credential: {
          id: stored.credentialId,
          publicKey: stored.publicKey,
          counter: stored.counter,
          transports: stored.transports,
        },
        requireUserVerification: true,
      });
      return result.verified ? result.authenticationInfo.newCounter : null;
    } catch (error) {
      this.logger.debug(`passkey sign-in refused: ${(error as Error)?.message ?? String(error)}`);
      return null;
    }
  }

  /** A discoverable credential's answer carries its user handle: it must be the owner's. */
  private handleNamesOwner(response: unknown, stored: StoredCredential): boolean {
    const handle = (response as { response?: { userHandle?: unknown } }).response?.userHandle;
    return handle === undefined || handle === webauthnUserHandle(stored.userId);
  }
}
