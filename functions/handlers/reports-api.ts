/** Lambda entry of the reports API: the routes are in api/, the real ports in api-deps.ts. */
import { createReportsApi } from '../api/app.js';
import { createApiDeps } from './api-deps.js';
import { lazyDeps } from './common-deps.js';
import { lambdaEntry, moduleLogger } from './runtime.js';

export { createReportsApi };

const logger = moduleLogger('reports-api');

export const handler = lambdaEntry({
  serviceName: 'reports-api',
  metricPrefix: 'ApiResponse',
  logger,
  run: createReportsApi(lazyDeps(() => createApiDeps({ logger }))),
  outcome: (r) => String(r.statusCode ?? 200),
});
