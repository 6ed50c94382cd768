import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ErrorResponse, REFRESH_COOKIE_SCHEME } from '../common/api-docs';
import { REFRESH_COOKIE } from '../auth/refresh-cookie';
import { AppConfig } from '../config/app-config';
import { addGenericResponses } from './openapi-responses';

export function setupOpenApi(app: NestFastifyApplication, config: AppConfig): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Auth service')
      .setDescription('Registration, login, sessions and token validation. Contract: docs/api.md.')
      .setVersion('1')
      .addServer(config.http.appUrl)
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .addBasicAuth({ type: 'http', scheme: 'basic', description: 'Introspection client credentials' })
      .addCookieAuth(
        REFRESH_COOKIE,
        {
          type: 'apiKey',
          in: 'cookie',
          name: REFRESH_COOKIE,
          description:
            'The refresh token as the HttpOnly cookie the token answers set (or refreshToken in the body)',
        },
        REFRESH_COOKIE_SCHEME,
      )
      .build(),
    { extraModels: [ErrorResponse] },
  );
  addGenericResponses(document);
  // A route without a security requirement is public: said explicitly (`security: []`), as linters
  // expect; test/openapi.e2e-spec.ts holds every route answering invalid_token to declaring one.
  for (const item of Object.values(document.paths))
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = item[method];
      if (operation && !operation.security) operation.security = [];
    }
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', useGlobalPrefix: false });
}
