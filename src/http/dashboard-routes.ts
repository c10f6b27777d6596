/**
 * `GET /dashboard` — the supervisors' wall-screen page, and its assets under
 * `/dashboard/assets/`. Everything is served by Undertone itself (uPlot from
 * node_modules), so the page works on a network with no internet access.
 *
 * The page is plain HTML/CSS and JS modules in src/http/dashboard/ (no build
 * step: the browser runs them as written; `npm run build` copies the folder
 * next to this module in dist/). It reads the live feed from
 * `/v1/supervisor/stream` (docs/supervisor-feed.md) and a call's history from
 * `GET /v1/supervisor/calls/:callId`.
 * Query parameters of the page (`team`, `queue`, `supervisorId`) are passed
 * on to the feed.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

interface Asset {
  /** Absolute path on disk. */
  path: string;
  contentType: string;
}

const resolveModule = createRequire(import.meta.url).resolve;
const own = (name: string): string => fileURLToPath(new URL(`./dashboard/${name}`, import.meta.url));

/**
 * The only files served: a fixed map, so no request path ever reaches the
 * file system. Names are URL path segments under `/dashboard/assets/`.
 */
const JS = 'text/javascript; charset=utf-8';
/** The page's own ES modules (dashboard.js imports the others). */
const MODULES = ['dashboard.js', 'api.js', 'state.js', 'format.js', 'charts.js', 'cards.js', 'alerts.js', 'detail.js'];
const ASSETS: Readonly<Record<string, Asset>> = {
  ...Object.fromEntries(MODULES.map((name) => [name, { path: own(name), contentType: JS }])),
  'dashboard.css': { path: own('dashboard.css'), contentType: 'text/css; charset=utf-8' },
  'uPlot.iife.min.js': { path: resolveModule('uplot/dist/uPlot.iife.min.js'), contentType: JS },
  'uPlot.min.css': { path: resolveModule('uplot/dist/uPlot.min.css'), contentType: 'text/css; charset=utf-8' },
};

const INDEX: Asset = { path: own('index.html'), contentType: 'text/html; charset=utf-8' };

export function registerDashboardRoutes(app: FastifyInstance): void {
  // Read on each request (they are small): an edited asset shows on reload,
  // and `no-cache` makes browsers revalidate after an upgrade.
  const send = async (asset: Asset, reply: import('fastify').FastifyReply): Promise<Buffer> => {
    const body = await readFile(asset.path);
    reply.header('content-type', asset.contentType).header('cache-control', 'no-cache');
    return body;
  };

  app.get('/dashboard', async (_request, reply) => send(INDEX, reply));

  app.get<{ Params: { name: string } }>('/dashboard/assets/:name', async (request, reply) => {
    const asset = Object.hasOwn(ASSETS, request.params.name) ? ASSETS[request.params.name] : undefined;
    if (!asset) {
      return reply.code(404).send({ error: 'UT_ERR_ROUTE_NOT_FOUND', message: `no dashboard asset ${request.params.name}` });
    }
    return send(asset, reply);
  });
}
