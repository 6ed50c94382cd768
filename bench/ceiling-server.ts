// The practical ceiling on this machine: a bare Fastify route answering a JSON body shaped like
// /auth/me's (no auth, no cache, no Nest). The benchmark runs it as its own process.
import Fastify from 'fastify';

const body = {
  id: '6f1c0a4e-6d3b-4f2a-9a55-0d5f0c7b7e11',
  email: 'bench.user@example.test',
  name: 'Bench User',
  roles: ['user'],
  emailVerified: true,
  createdAt: '2026-11-21T07:00:00.000Z',
  updatedAt: '2026-11-21T07:00:00.000Z',
};

const app = Fastify({ logger: false });
app.get('/', async () => body);
app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' }).then((address) => {
  process.stdout.write(`listening ${address}\n`);
});
