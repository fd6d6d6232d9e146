import path from 'node:path';
import express, { Router } from 'express';
import type { OpenApiCatalog } from '../openapi/openapi-catalog';

// swagger-ui-dist's `absolute-path.js` has no types; its folder is where its package.json is.
const SWAGGER_UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));

export const OPENAPI_PATH = '/v1/openapi.json';

// Replaces the bundled petstore initializer: the UI reads the merged document of this gateway.
const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(OPENAPI_PATH)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
  });
};
`;

/**
 * `GET /v1/openapi.json`, the merged OpenAPI 3.1 document of every service's public routes, and
 * `/docs`, Swagger UI served from the installed swagger-ui-dist (no CDN: the page works offline
 * and the Content-Security-Policy can stay `'self'`).
 */
export function docsRoutes(catalog: OpenApiCatalog): Router {
  const router = Router();
  router.get(OPENAPI_PATH, (_req, res) => {
    res.setHeader('cache-control', 'no-cache');
    res.json(catalog.document());
  });
  router.get('/docs', (req, res, next) => {
    // Swagger UI's page loads its files relatively, so it must be served under `/docs/`.
    if (req.originalUrl === '/docs') res.redirect(301, '/docs/');
    else next();
  });
  router.get('/docs/swagger-initializer.js', (_req, res) => {
    res.type('application/javascript').setHeader('cache-control', 'no-cache');
    res.send(INITIALIZER);
  });
  router.use('/docs', express.static(SWAGGER_UI_DIR, { index: 'index.html', maxAge: '1h' }));
  return router;
}
