/**
 * The facts every layer and the CDK app must agree on, defined once. Dependency-free on purpose:
 * `infra/` reads this module (and the definitions schema) instead of reaching into runtime code,
 * so synthesising the stack never loads the Verifik client, an AWS SDK client or a renderer.
 * A value that two places spelled differently used to be two bugs waiting (a `reports/` prefix, a
 * recipient maximum, a definition-name pattern that the S3 keys accepted and the schema did not).
 */

// ---------------------------------------------------------------- storage

/** Where reports live in the bucket: `<prefix><definition>/<yyyy>/<mm>/<dd>/<report id>/`. */
export const REPORTS_PREFIX = 'reports/';

/** Written last: its presence is the only signal that a report is complete. */
export const MANIFEST_NAME = 'manifest.json';
/** The full summary, stored beside each manifest for the next report's deltas; not for download. */
export const SUMMARY_FILE = 'summary.json';

/** The files a report offers people: the manifest's `kind`, the stored name and content type. */
export const FILE_CATALOGUE = {
  xlsx: {
    name: 'validations.xlsx',
    contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  },
  'details-csv': { name: 'validations.csv', contentType: 'text/csv; charset=utf-8' },
  'summary-csv': { name: 'summary.csv', contentType: 'text/csv; charset=utf-8' },
} as const;
export type FileKind = keyof typeof FILE_CATALOGUE;
export const FILE_KINDS = Object.keys(FILE_CATALOGUE) as [FileKind, ...FileKind[]];

/**
 * Deltas ("what changed") compare with the newest earlier report of the same definition within
 * this many days, in S3 and in a local `--out` directory alike.
 */
export const PREVIOUS_REPORT_LOOKBACK_DAYS = 7;

/**
 * The biometric checks every validation may carry: columns, summary, mail and the definitions'
 * conditions (`sendIf` thresholds on a check's failure rate) all name them this way.
 */
export const CHECK_KEYS = ['livenessDetection', 'identityMatch', 'antiSpoofing'] as const;
export type CheckKey = (typeof CHECK_KEYS)[number];

// ---------------------------------------------------------------- names and patterns

/** A calendar day as every boundary takes it (API, worker payload, manifest, state records). */
export const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** Definition names: stable ids in S3 keys, schedule names and claims. */
export const DEFINITION_NAME = /^[a-z0-9][a-z0-9-]{0,47}$/;
export const DEFINITION_NAME_RULE = 'lowercase letters, digits and dashes, at most 48';

/** The definition name of reports asked for through the API, and of the CLI's by default. */
export const ON_DEMAND_DEFINITION = 'on-demand';
export const CLI_DEFINITION = 'cli';

/** Report ids: URL-, key- and link-safe, no separators. */
export const REPORT_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** File names as the pipeline writes them: no slashes, no leading dot, so no path tricks. */
export const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

// ---------------------------------------------------------------- mail

/** SES v2 refuses more destinations than this in one message. */
export const MAX_RECIPIENTS = 50;

// The recipient allowlist rule, the same at synth (infra/config.ts), at the API and before a send.

/** Lower-cased domain part of an address. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** Recipients outside the allowlist, so callers can refuse them by name. */
export function disallowedRecipients(
  addresses: readonly string[],
  allowedDomains: readonly string[],
): string[] {
  const allowed = new Set(allowedDomains.map((d) => d.toLowerCase()));
  return addresses.filter((a) => !allowed.has(domainOf(a)));
}

/** The header every report and failure mail carries, so a message can be traced to its report. */
export const REPORT_ID_HEADER = 'X-Report-Id';
/** Which send of the report a mail is (one per attempt that reached SES): how SES events find their run. */
export const SEND_ID_HEADER = 'X-Report-Send-Id';
/** The same two, as SES message tags (SES copies tags into every event it publishes). */
export const REPORT_ID_TAG = 'report-id';
export const SEND_ID_TAG = 'send-id';

/**
 * Default attachment budget, measured on the base64-encoded size of all attachments together.
 * SES v2 accepts 40 MB per message, but many receiving servers (Exchange Online's default, older
 * Gmail paths, corporate gateways) refuse anything over 10–25 MB, and a report mail should land
 * everywhere. 7 MiB encoded (about 5.2 MiB of files) fits even SES v1's 10 MB raw limit with room
 * for the HTML body and headers; anything bigger goes by link.
 */
export const DEFAULT_ATTACHMENT_BUDGET_BYTES = 7 * 1024 * 1024;

/** Default lifetime of a mailed link: our own endpoint, so not capped by SigV4's 7-day presign limit. */
export const DEFAULT_LINK_TTL_SECONDS = 7 * 24 * 60 * 60;

// ---------------------------------------------------------------- the reports API

/**
 * The reports API's routes: what the function dispatches, what the CDK stack declares in API
 * Gateway and what the tests' API Gateway stand-in matches. A route missing from the stack would
 * be API Gateway's 404 in AWS while every local test still passed.
 */
export const API_ROUTES = {
  createReport: { method: 'POST', path: '/reports' },
  listReports: { method: 'GET', path: '/reports' },
  reportStatus: { method: 'GET', path: '/reports/{id}' },
  /** The signed download link: the one route without IAM authorization. */
  download: { method: 'GET', path: '/reports/{id}/files/{name}' },
  /** A stored report mailed again (same files, fresh links); idempotent per `Idempotency-Key`. */
  resendReport: { method: 'POST', path: '/reports/{id}/resend' },
  /** The report definitions, their schedules, whether paused and when each runs next. */
  listDefinitions: { method: 'GET', path: '/definitions' },
  /** Starts a definition's scheduled run for each day of a range; idempotent per `Idempotency-Key`. */
  backfill: { method: 'POST', path: '/definitions/{name}/backfill' },
  pauseDefinition: { method: 'POST', path: '/definitions/{name}/pause' },
  resumeDefinition: { method: 'POST', path: '/definitions/{name}/resume' },
} as const;
export type ApiRoute = (typeof API_ROUTES)[keyof typeof API_ROUTES];

/** The path of a report file's download route, as links are signed and mailed. */
export function downloadPath(reportId: string, file: string): string {
  return API_ROUTES.download.path.replace('{id}', reportId).replace('{name}', file);
}

// ---------------------------------------------------------------- state table

/** The key schema the CDK stack creates; tests create their tables from it. */
export const STATE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  byDateIndex: 'byDate',
  indexPartitionKey: 'gsi1pk',
  indexSortKey: 'gsi1sk',
  /** Sparse: only run records that still need someone (the sweeper's reading list). */
  openIndex: 'open',
  openIndexPartitionKey: 'gsi2pk',
  openIndexSortKey: 'gsi2sk',
  ttlAttribute: 'expiresAt',
} as const;

// ---------------------------------------------------------------- Verifik

/** The real API; every default in the project (CLI, functions, stack) points here. */
export const VERIFIK_API_URL = 'https://api.verifik.co';

/**
 * Requests a report read keeps open at Verifik by default. At 4, a 1M-record report waited on the
 * network (pages ÷ 4 × latency) and took 15.1 s against the fake at 20 ms a request; at 8, 13.3 s.
 * A server that answers 429 brings it down by itself (verifik/adaptive-limit.ts).
 */
export const DEFAULT_CONCURRENCY = 8;
/**
 * The setting exists to be gentler with Verifik, not to push it harder: each request in flight
 * keeps pages queued in memory. 32 leaves room to experiment and refuses a typo such as 80 or 800.
 */
export const MAX_CONCURRENCY = 32;

// ---------------------------------------------------------------- Lambda runtime

/** The scheduled function's event: which definition, and optionally which day (a backfill). */
export interface ScheduledEventInput {
  definition: string;
  day?: string | undefined;
  /** When the schedule fired; the stack fills it with the Scheduler's `<aws.scheduler.scheduled-time>`. */
  scheduledTime?: string | undefined;
}

/** CloudWatch namespace of the functions' metrics; the alarms read the same one. */
export const METRICS_NAMESPACE = 'VerifikReports';

/**
 * Lambda retries a failed asynchronous run (scheduled or on-demand) this many times; the CDK
 * stack configures it and the scheduled run uses it to tell owners once when a day first fails
 * and once when the last automatic attempt failed, not on every attempt.
 */
export const ASYNC_RETRY_ATTEMPTS = 2;

/**
 * V8 flags NODE_OPTIONS accepts: set there by the stack, passed on the command line by the bench
 * (settings/runtime-flags.ts has the measurements and the flags a process sets on itself).
 */
export const LAMBDA_V8_FLAGS = ['--max-semi-space-size=4'] as const;

/**
 * Node flags (not V8 flags) the stack adds to the functions' NODE_OPTIONS and the bench gives its
 * scenario processes, so both run alike.
 *
 * `--disable-warning=DEP0005`: exceljs's streaming writer reaches `new Buffer(string)` in
 * archiver-utils 2.1.0 (archiver 5, pinned by exceljs 4) at the first workbook. Unbundled, Node
 * stays quiet because the caller is inside node_modules; in a bundle it is not, so every report
 * run printed "[DEP0005] DeprecationWarning: Buffer() is deprecated" into its JSON logs. Nothing
 * of ours calls `Buffer()` and we cannot fix the dependency, so this one code is silenced; every
 * other warning and deprecation still prints. Node ≥ 21.3 accepts the flag in NODE_OPTIONS.
 */
export const LAMBDA_NODE_FLAGS = ['--disable-warning=DEP0005'] as const;

/** Environment of the report functions' processes; glibc reads it once, before any JS runs. */
export const LAMBDA_PROCESS_ENV = { MALLOC_ARENA_MAX: '2' } as const;
