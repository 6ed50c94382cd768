import { randomBytes } from 'node:crypto';
import { HttpClient } from './http';

export interface TokenResponse {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
  user: {
    id: string;
    email: string;
    name: string | null;
    roles: string[];
    emailVerified: boolean;
    createdAt: string;
    updatedAt: string;
  };
}

export interface RegisteredUser {
  email: string;
  password: string;
  tokens: TokenResponse;
}

let counter = 0;

/** A unique, valid email for this run. */
export function uniqueEmail(label = 'user'): string {
  counter += 1;
  return `${label}.${process.pid}.${counter}.${randomBytes(3).toString('hex')}@example.test`;
}

/** A password that passes the length rule and is on no common-password list. */
export function strongPassword(): string {
  return `Tr0ub4dor-${randomBytes(8).toString('hex')}`;
}

export const UserFactory = {
  async register(
    http: HttpClient,
    overrides: { email?: string; password?: string; name?: string } = {},
  ): Promise<RegisteredUser> {
    const email = overrides.email ?? uniqueEmail();
    const password = overrides.password ?? strongPassword();
    const res = await http.post<TokenResponse>('/api/v1/auth/register', {
      email,
      password,
      ...(overrides.name ? { name: overrides.name } : {}),
    });
    if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
    return { email, password, tokens: res.body };
  },

  async login(http: HttpClient, user: { email: string; password: string }): Promise<TokenResponse> {
    const res = await http.post<TokenResponse>('/api/v1/auth/login', {
      email: user.email,
      password: user.password,
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
    return res.body;
  },
};

/** Asserts the documented error shape and returns it. */
export function expectError(res: { status: number; body: any }, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.body).toEqual(
    expect.objectContaining({
      statusCode: status,
      error: expect.any(String),
      message: expect.anything(),
      code,
    }),
  );
  expect(JSON.stringify(res.body)).not.toMatch(/at .+\.(ts|js):\d+|prisma|SELECT |INSERT /i);
}

/**
 * Sessions straight from the service's own SessionsService on an instance: the same code path
 * as a login minus the argon2 work, for tests that need hundreds of sessions.
 */
export const SessionFactory = {
  async create(
    instance: { app: { get(token: unknown): unknown } },
    user: TokenResponse['user'],
  ): Promise<TokenResponse> {
    // Loaded lazily so suites that never use it do not pull the app's modules in.
    const { SessionsService } = await import('../../apps/auth-service/src/sessions/sessions.service.js');
    const sessions = instance.app.get(SessionsService) as InstanceType<typeof SessionsService>;
    const response = await sessions.start(
      { ...user, createdAt: new Date(user.createdAt), updatedAt: new Date(user.updatedAt) },
      { userAgent: 'SessionFactory', ip: null },
    );
    return JSON.parse(JSON.stringify(response)) as TokenResponse;
  },
};
