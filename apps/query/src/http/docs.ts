import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

// Swagger UI at /docs from the assets installed with @fastify/swagger-ui
// (nothing from a CDN), reading the OpenAPI document at /docs-json. The
// assets are served by these few routes rather than through the plugin,
// which pulls in an ESM-only dependency that Jest cannot load.

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'index.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

const INDEX = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>Artifacts read API</title>
    <link rel="stylesheet" type="text/css" href="/docs/static/swagger-ui.css" />
    <link rel="stylesheet" type="text/css" href="/docs/static/index.css" />
    <link rel="icon" type="image/png" href="/docs/static/favicon-32x32.png" sizes="32x32" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/static/swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="/docs/static/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
    <script src="/docs/static/swagger-initializer.js" charset="UTF-8"></script>
  </body>
</html>
`;

const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/docs-json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
    // The bearer token given to Authorize survives a reload of the page.
    persistAuthorization: true,
    displayRequestDuration: true,
  });
};
`;

export function registerDocs(fastify: FastifyInstance, document: object): void {
  // createRequire: webpack would turn a plain require.resolve into a module id.
  const assetDir = join(dirname(createRequire(__filename).resolve('@fastify/swagger-ui')), 'static');
  const cache = new Map<string, Buffer>();
  const documentText = JSON.stringify(document);

  fastify.get('/docs-json', async (_request, reply) => reply.type('application/json').send(documentText));
  fastify.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(INDEX));
  fastify.get('/docs/static/swagger-initializer.js', async (_request, reply) =>
    reply.type('application/javascript; charset=utf-8').send(INITIALIZER),
  );
  fastify.get<{ Params: { file: string } }>('/docs/static/:file', async (request, reply) => {
    const type = ASSETS[request.params.file];
    if (type === undefined) return reply.code(404).type('application/json').send('{"detail":"Not Found"}');
    let body = cache.get(request.params.file);
    if (body === undefined) {
      body = readFileSync(join(assetDir, request.params.file));
      cache.set(request.params.file, body);
    }
    return reply.type(type).header('cache-control', 'public, max-age=86400').send(body);
  });
}
