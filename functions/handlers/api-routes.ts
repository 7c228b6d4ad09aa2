/**
 * The reports API's routes, in one place: what the function dispatches (reports-api.ts), what the
 * CDK stack declares in API Gateway (infra/constructs/report-api.ts) and what the tests' API
 * Gateway stand-in matches. A route missing from the stack would be API Gateway's 404 in AWS
 * while every local test still passed.
 */
export const API_ROUTES = {
  createReport: { method: 'POST', path: '/reports' },
  listReports: { method: 'GET', path: '/reports' },
  reportStatus: { method: 'GET', path: '/reports/{id}' },
  /** The signed download link: the one route without IAM authorization. */
  download: { method: 'GET', path: '/reports/{id}/files/{name}' },
} as const;

export type ApiRoute = (typeof API_ROUTES)[keyof typeof API_ROUTES];
