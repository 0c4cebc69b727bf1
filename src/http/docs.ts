import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { AppError } from '../errors.ts';
import type { AppEnv } from './context.ts';
import type { OpenApiDocument } from './openapi.ts';

/**
 * GET /openapi.json (the OpenAPI 3.1 document, generated from the app's own route definitions:
 * src/http/openapi.ts) and GET /docs (Swagger UI), both public: the document holds no secret,
 * and "Try it out" asks for the API key in the browser. Swagger UI's files come from the
 * swagger-ui-dist package, served by this app under /docs/assets/: no CDN. The page's CSP
 * allows scripts and styles from this origin only, so its start-up code is a file too
 * (test/browser/docs.browser.test.ts checks that Chromium reports no violation).
 */

const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** Start-up script. Paths are relative to the page, so the app also works under a path prefix. */
const INIT_JS = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: new URL('openapi.json', document.baseURI).href,
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    validatorUrl: null,
    persistAuthorization: false,
  });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wix-registry API</title>
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/assets/init.js"></script>
</body>
</html>
`;

/** The only files served under /docs/assets/ (no path from the request reaches the file system). */
const ASSETS: Record<string, { type: string; read: () => Uint8Array<ArrayBuffer> | string }> = {
  'swagger-ui.css': { type: 'text/css; charset=utf-8', read: () => readAsset('swagger-ui.css') },
  'swagger-ui-bundle.js': { type: 'text/javascript; charset=utf-8', read: () => readAsset('swagger-ui-bundle.js') },
  'favicon-32x32.png': { type: 'image/png', read: () => readAsset('favicon-32x32.png') },
  'favicon-16x16.png': { type: 'image/png', read: () => readAsset('favicon-16x16.png') },
  'init.js': { type: 'text/javascript; charset=utf-8', read: () => INIT_JS },
};

const readAsset = (name: string) => new Uint8Array(readFileSync(join(SWAGGER_UI_DIR, name)));
const loaded = new Map<string, Uint8Array<ArrayBuffer> | string>();

/** `document` is called once, on the first request for it: the document never changes while the process runs. */
export function createApiDocsRoutes(deps: { document: () => OpenApiDocument }) {
  const routes = new Hono<AppEnv>();
  let documentJson: string | undefined;
  const pageHeaders = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      // Swagger UI sets styles through the DOM (CSSOM), which style-src does not restrict.
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
  });

  routes.get('/openapi.json', (c) =>
    c.body((documentJson ??= JSON.stringify(deps.document())), 200, { 'content-type': 'application/json; charset=utf-8' }),
  );
  routes.get('/docs', pageHeaders, (c) => c.html(PAGE));
  routes.get('/docs/assets/:file', (c) => {
    const name = c.req.param('file');
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) throw new AppError('not_found', 'No such route');
    let body = loaded.get(name);
    if (body === undefined) loaded.set(name, (body = asset.read()));
    return c.body(body, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=3600' });
  });
  return routes;
}
