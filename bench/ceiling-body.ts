/** The ceilings' answer: a JSON body shaped like /auth/me's. */
export const CEILING_BODY = {
  id: '6f1c0a4e-6d3b-4f2a-9a55-0d5f0c7b7e11',
  email: 'bench.user@example.test',
  name: 'Bench User',
  roles: ['user'],
  emailVerified: true,
  createdAt: '2026-11-21T07:00:00.000Z',
  updatedAt: '2026-11-21T07:00:00.000Z',
};
