// The practical ceiling on this machine: a bare Fastify route answering a JSON body shaped like
// /auth/me's (no auth, no cache, no Nest). The benchmark runs it as its own process. Two references
// for POST routes in the same process: a bare Fastify route and a bare node:http server (RAW_PORT)
// that read introspection's form: what reading a request body costs before any framework. And the
// floor (FLOOR_PORT): the ceiling's route plus what the service's defaults do on every answer,
// with the service's own code (its response headers, request id, access-log line to stdout and
// HTTP duration metric): what /auth/me would cost if its auth and cache work were free; and the
// same for the form POST, what introspection would cost if its client check and token work were free.
import Fastify, { FastifyInstance } from 'fastify';
import { MetricsService } from '@app/metrics';
import { apiResponseHeaders } from '../apps/auth-service/src/bootstrap/security';
import {
  accessLogger,
  answerRecorder,
  requestIdFor,
} from '../apps/auth-service/src/observability/access-log';
import { stdoutDestination } from '../apps/auth-service/src/observability/logging';
import { createServer } from 'node:http';
import { CEILING_BODY } from './ceiling-body';

/** Shaped like an introspection answer: the reference for POST routes that read a small form. */
const introspection = {
  active: true,
  sub: '6f1c0a4e-6d3b-4f2a-9a55-0d5f0c7b7e11',
  sid: '0d5f0c7b-7e11-4f2a-9a55-6f1c0a4e6d3b',
  exp: 1795263320,
  iat: 1795262420,
  iss: 'http://bench.local',
  aud: 'auth-service',
  token_type: 'Bearer',
  roles: ['user'],
  jti: '9a550d5f-0c7b-4e11-8f2a-6f1c0a4e6d3b',
};

/** The form parser of the two Fastify references (bare POST and the POST floor). */
function readsForms(server: FastifyInstance): void {
  server.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_req, text, done) => done(null, Object.fromEntries(new URLSearchParams(text as string))),
  );
}
const answerForm = (request: { body: unknown }) =>
  Promise.resolve((request.body as { token?: string }).token ? introspection : {});

const app = Fastify({ logger: false });
readsForms(app);
app.get('/', () => Promise.resolve(CEILING_BODY));
app.post('/form', answerForm);
app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' }).then(
  (address) => {
    process.stdout.write(`listening ${address}\n`);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

const introspectionJson = JSON.stringify(introspection);
createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const token = new URLSearchParams(Buffer.concat(chunks).toString()).get('token');
    const body = token ? introspectionJson : '{}';
    response.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
  });
}).listen(Number(process.env.RAW_PORT ?? 0), '127.0.0.1');

const floor = Fastify({ logger: false, genReqId: requestIdFor });
const headers = apiResponseHeaders();
floor.addHook('onRequest', (request, reply, done) => {
  void reply.headers(headers).header('x-request-id', request.id);
  done();
});
floor.addHook(
  'onResponse',
  answerRecorder(new MetricsService({ prefix: 'auth_' }), accessLogger('info', stdoutDestination())),
);
floor.get('/api/v1/auth/me', () => Promise.resolve(CEILING_BODY));
// The form POST's floor: the bare form POST plus the same per-answer work, introspection's reference.
readsForms(floor);
floor.post('/api/v1/auth/introspect', answerForm);
void floor.listen({ port: Number(process.env.FLOOR_PORT ?? 0), host: '127.0.0.1' });
