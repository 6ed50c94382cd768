import { Injectable } from '@nestjs/common';
import { invalidToken } from '../common/api-error';
import { ProfilePatch, ProfilesRepository, ProfileView } from './profiles.repository';
import { PublicUser } from './public-user';
import { UsersRepository } from './users.repository';

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly profiles: ProfilesRepository,
  ) {}

  /** A valid token for a user who no longer exists is as good as no token. */
  async getMe(userId: string): Promise<PublicUser> {
    const user = await this.users.getById(userId);
    if (!user) throw invalidToken();
    return user;
  }

  async updateMe(userId: string, patch: { name?: string | null }): Promise<PublicUser> {
    if (patch.name === undefined) return this.getMe(userId);
    return this.users.updateName(userId, patch.name);
  }

  getProfile(userId: string): Promise<ProfileView> {
    return this.profiles.getByUserId(userId);
  }

  updateProfile(userId: string, patch: ProfilePatch): Promise<ProfileView> {
    return this.profiles.upsert(userId, patch);
  }
}
