/**
 * The three Lambda functions, each with its own role, log group and exactly the permissions its
 * handler uses. Bundled by the local esbuild as ESM with source maps; tests pass `code` to skip
 * bundling and assert the same template.
 */

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, type RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ASYNC_RETRY_ATTEMPTS,
  LAMBDA_NODE_FLAGS,
  LAMBDA_PROCESS_ENV,
  LAMBDA_V8_FLAGS,
  METRICS_NAMESPACE,
  REPORTS_PREFIX,
  STATE_TABLE,
} from '../../functions/contract.js';
import type { ReportDefinition } from '../../functions/settings/definitions.js';
import { BUNDLE_ALIASES } from '../bundling/aliases.js';
import type { FunctionSizing } from '../config.js';
import { deadLetterQueue } from './dead-letter-queue.js';
import { logicalIdOf } from './logical-id.js';
import type { ReportMail } from './report-mail.js';
import type { ReportSecrets } from './report-secrets.js';
import { ReportStorage } from './report-storage.js';

/**
 * Every Lambda entry; `token-rotation` is built by token-renewal.ts, `console-signin-guard` by
 * console-users.ts, the others here.
 */
export const HANDLER_NAMES = [
  'scheduled-report',
  'reports-api',
  'report-worker',
  'sweeper',
  'ses-events',
  'token-rotation',
  'console-signin-guard',
] as const;

/**
 * The two small functions of the delivery protocol: they read and write claim records and send
 * at most an alert, so neither needs the report functions' memory. The sweeper's timeout covers
 * a few hundred open runs at a few DynamoDB calls each.
 */
const SWEEPER_SIZING: FunctionSizing = { memoryMb: 512, timeoutSeconds: 300 };
const SES_EVENTS_SIZING: FunctionSizing = { memoryMb: 256, timeoutSeconds: 30 };
export type HandlerName = (typeof HANDLER_NAMES)[number];

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Source file of a handler (`functions/handlers/<name>.ts`, exporting `handler`). */
export function handlerEntry(name: HandlerName): string {
  return join(REPO_ROOT, 'functions', 'handlers', `${name}.ts`);
}

/** Lambda's limit on a function's environment: keys plus values, 4 KB. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;
/**
 * What a deploy-time value (ARN, name, URL) may resolve to. The longest here is a secret ARN:
 * about 91 bytes plus the stack name (the name holds `<stack>-<8 hex digits>`; ~105 bytes for
 * VerifikReports), so 160 holds for stack names up to ~69 characters; the config allows 128,
 * where each secret ARN would be ~59 bytes over.
 */
const UNRESOLVED_VALUE_BYTES = 160;
/**
 * Room for variables added after creation: PUBLIC_API_URL, on the scheduled function only (the
 * API's two function names already cost it as much as that reserve).
 */
const LATER_VARIABLES_BYTES = 200;

/** Upper estimate of an environment's size as Lambda counts it. */
export function environmentBytes(environment: Record<string, string>): number {
  let total = 0;
  for (const [key, value] of Object.entries(environment)) {
    total +=
      Buffer.byteLength(key) +
      (Token.isUnresolved(value) ? UNRESOLVED_VALUE_BYTES : Buffer.byteLength(value));
  }
  return total;
}

export class EnvironmentTooLargeError extends Error {
  override name = 'EnvironmentTooLargeError';
  constructor(fn: string, bytes: number, definitionsBytes: number) {
    super(
      `The ${fn} function's environment would be about ${bytes} bytes (REPORT_DEFINITIONS alone ${definitionsBytes}); ` +
        `Lambda allows ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}. Shorten descriptions, drop empty filters, or split definitions across stacks.`,
    );
  }
}

export interface ReportSettings {
  /** Validated definitions, serialised as the functions parse them. */
  readonly definitions: readonly ReportDefinition[];
  readonly allowedRecipientDomains: readonly string[];
  readonly verifikBaseUrl: string;
  /** Requests a report read keeps open at Verifik. */
  readonly verifikConcurrency: number;
  readonly linkTtlSeconds: number;
  readonly attachmentBudgetBytes: number;
  /** Days the bucket keeps report files; report records are kept at least as long. */
  readonly reportRetentionDays: number;
  /** On-demand reports running at once before the API answers 429. */
  readonly maxParallelReports: number;
}

export interface ReportFunctionsProps {
  readonly storage: ReportStorage;
  readonly secrets: ReportSecrets;
  readonly mail: ReportMail;
  readonly settings: ReportSettings;
  readonly sizing: Record<'scheduled' | 'worker' | 'api', FunctionSizing>;
  readonly workerReservedConcurrency?: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /**
   * Prebuilt code instead of esbuild bundling. Tests use it so template assertions run in
   * milliseconds and do not depend on the handler sources.
   */
  readonly code?: (name: HandlerName) => lambda.Code;
}

/** ESM bundles still meet CommonJS dependencies (exceljs, nodemailer) that call `require`. */
const REQUIRE_SHIM =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

export const BUNDLING: nodejs.BundlingOptions = {
  forceDockerBundling: false,
  format: nodejs.OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  banner: REQUIRE_SHIM,
  minify: true,
  sourceMap: true,
  sourceMapMode: nodejs.SourceMapMode.DEFAULT,
  sourcesContent: false,
  // Bundle the AWS SDK: the functions run the exact versions the tests ran (the runtime's copy
  // changes under us and need not include lib-storage or s3-request-presigner), and minified
  // ESM tree-shaking keeps only the clients actually used.
  bundleAwsSDK: true,
  externalModules: [],
  // zod without its locales (bundling/aliases.ts); the CDK has no `alias` option, esbuild's CLI has.
  esbuildArgs: Object.fromEntries(
    Object.entries(BUNDLE_ALIASES).map(([from, to]) => [`--alias:${from}`, to]),
  ),
  logLevel: nodejs.LogLevel.ERROR,
};

/** The functions' NODE_OPTIONS: source maps, the measured V8 flags, and the Node flags (node-flags.ts). */
export const LAMBDA_NODE_OPTIONS = ['--enable-source-maps', ...LAMBDA_V8_FLAGS, ...LAMBDA_NODE_FLAGS].join(
  ' ',
);

export class ReportFunctions extends Construct {
  readonly scheduled: lambda.Function;
  readonly api: lambda.Function;
  readonly worker: lambda.Function;
  /** Redoes crashed or missed days and alerts owners (runs/sweep.ts), every few minutes. */
  readonly sweeper: lambda.Function;
  /** Records SES's events in the delivery log and settles unknown sends (runs/ses-events.ts). */
  readonly sesEvents: lambda.Function;
  /** Asynchronous invocations (scheduled runs, on-demand runs) that failed after Lambda's retries. */
  readonly failedRuns: sqs.Queue;
  private readonly props: ReportFunctionsProps;

  constructor(scope: Construct, id: string, props: ReportFunctionsProps) {
    super(scope, id);
    this.props = props;
    const { storage, secrets, mail, settings } = props;

    // Defaults are left out (the functions' schema fills them in): the environment is 4 KB, and
    // an existing daily stack keeps exactly its variables.
    const definitionsJson = JSON.stringify(
      settings.definitions.map(({ cadence, sendIf, destinations, ...d }) => ({
        ...d,
        ...(cadence.kind === 'daily' ? {} : { cadence }),
        ...(sendIf === 'always' ? {} : { sendIf }),
        ...(destinations.length === 0 ? {} : { destinations }),
      })),
    );

    this.failedRuns = deadLetterQueue(
      this,
      'FailedRuns',
      'the asynchronous report runs (their on-failure destination)',
    );

    // Every function parses the same configuration module, so each gets the same variables;
    // permissions, not variables, decide what a function can reach.
    const common: Record<string, string> = {
      REPORTS_BUCKET: storage.bucket.bucketName,
      REPORTS_PREFIX,
      STATE_TABLE: storage.table.tableName,
      VERIFIK_BASE_URL: settings.verifikBaseUrl,
      VERIFIK_CONCURRENCY: String(settings.verifikConcurrency),
      VERIFIK_TOKEN_SECRET_ID: secrets.verifikToken.secretArn,
      LINK_SIGNING_SECRET_ID: secrets.linkSigningKey.secretArn,
      MAIL_FROM: mail.fromAddress,
      SES_CONFIGURATION_SET: mail.configurationSet.configurationSetName,
      ALLOWED_RECIPIENT_DOMAINS: settings.allowedRecipientDomains.join(','),
      LINK_TTL_SECONDS: String(settings.linkTtlSeconds),
      ATTACHMENT_BUDGET_BYTES: String(settings.attachmentBudgetBytes),
      REPORT_RETENTION_DAYS: String(settings.reportRetentionDays),
      MAX_PARALLEL_REPORTS: String(settings.maxParallelReports),
      REPORT_DEFINITIONS: definitionsJson,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
      ...LAMBDA_PROCESS_ENV,
    };

    this.worker = this.makeFunction('Worker', 'report-worker', props.sizing.worker, common);
    this.scheduled = this.makeFunction('Scheduled', 'scheduled-report', props.sizing.scheduled, common);
    this.api = this.makeFunction('Api', 'reports-api', props.sizing.api, {
      ...common,
      WORKER_FUNCTION_NAME: this.worker.functionName,
      // Backfills start the scheduled function per day, as its schedule and the sweeper do.
      SCHEDULED_FUNCTION_NAME: this.scheduled.functionName,
    });
    this.sweeper = this.makeFunction('Sweeper', 'sweeper', SWEEPER_SIZING, {
      ...common,
      SCHEDULED_FUNCTION_NAME: this.scheduled.functionName,
    });
    this.sesEvents = this.makeFunction('SesEvents', 'ses-events', SES_EVENTS_SIZING, common);

    // Lambda retries a failed asynchronous run twice; the day claim makes retries safe. What
    // still fails lands in FailedRuns (alarmed) with the request and the error.
    for (const [fn, maxEventAge] of [
      [this.scheduled, Duration.hours(6)],
      [this.worker, Duration.hours(1)],
    ] as const) {
      fn.configureAsyncInvoke({
        retryAttempts: ASYNC_RETRY_ATTEMPTS,
        maxEventAge,
        onFailure: new destinations.SqsDestination(this.failedRuns),
      });
    }

    this.grantReportRun(this.scheduled);
    this.grantReportRun(this.worker);
    this.grantApi();
    this.grantSweeper();
    this.grantSesEvents();
  }

  /** The sweeper: read open runs, move and alert them, start the scheduled function again. */
  private grantSweeper(): void {
    const { storage, mail } = this.props;
    const fn = this.sweeper;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'OpenRuns',
        // DeleteItem: taking a queued backfill day off its queue (the only item anyone deletes).
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:Query',
        ],
        resources: [storage.table.tableArn, `${storage.table.tableArn}/index/${STATE_TABLE.openIndex}`],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RedoScheduledRun',
        actions: ['lambda:InvokeFunction'],
        resources: [this.scheduled.functionArn],
      }),
    );
    // Alerts to owners go through the same identity and configuration set as the reports.
    mail.grantSend(fn);
  }

  /** SES's events: log lines and one conditional update of the run they settle; nothing else. */
  private grantSesEvents(): void {
    this.sesEvents.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DeliveryLog',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [this.props.storage.table.tableArn],
      }),
    );
  }

  /** The scheduled and worker runs: fetch from Verifik, write files, record state, send mail. */
  private grantReportRun(fn: lambda.Function): void {
    const { storage, secrets, mail } = this.props;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WriteReportFiles',
        // Delete: a failed run removes the files it completed, so no report exists without its manifest.
        actions: [
          's3:PutObject',
          's3:GetObject',
          's3:DeleteObject',
          's3:AbortMultipartUpload',
          's3:ListMultipartUploadParts',
        ],
        resources: [storage.reportsObjectsArn()],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListReportsPrefix',
        actions: ['s3:ListBucket'],
        resources: [storage.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${REPORTS_PREFIX}*`] } },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'FindAbandonedUploads',
        // A failed run aborts the multipart uploads left under its own prefix. This action has
        // no s3:prefix condition key; it lists upload ids only, in a bucket that holds only reports.
        actions: ['s3:ListBucketMultipartUploads'],
        resources: [storage.bucket.bucketArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ClaimsAndStatus',
        // Claims and status changes are conditional Put/Update items; nothing is ever deleted (TTL expires them).
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [storage.table.tableArn],
      }),
    );
    this.grantSecretRead(fn, 'ReadVerifikToken', secrets.verifikToken.secretArn);
    this.grantSecretRead(fn, 'ReadLinkSigningKey', secrets.linkSigningKey.secretArn);
    mail.grantSend(fn);
    acknowledgeReportsPrefix(fn, storage);
  }

  /**
   * The API: create and read report records, sign and check links, hand work to the worker,
   * start scheduled runs (backfill), pause definitions, re-send stored reports.
   */
  private grantApi(): void {
    const { storage, secrets, mail } = this.props;
    const fn = this.api;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadReportFiles',
        // Presigned download URLs act with the signer's permissions, so this is also the download right.
        actions: ['s3:GetObject'],
        resources: [storage.reportsObjectsArn()],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReportRecords',
        // UpdateItem: a report whose worker could not be started is marked failed (503 path).
        // The open index: how many reports are running, before starting another (429 past the limit).
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        resources: [
          storage.table.tableArn,
          `${storage.table.tableArn}/index/${ReportStorage.BY_DATE_INDEX}`,
          `${storage.table.tableArn}/index/${STATE_TABLE.openIndex}`,
        ],
      }),
    );
    this.grantSecretRead(fn, 'ReadLinkSigningKey', secrets.linkSigningKey.secretArn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'StartWorker',
        actions: ['lambda:InvokeFunction'],
        // The unqualified ARN only: no versions or aliases, so no `:*`.
        resources: [this.worker.functionArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'StartScheduledRun',
        actions: ['lambda:InvokeFunction'],
        resources: [this.scheduled.functionArn],
      }),
    );
    // Re-sent reports go through the same identity and configuration set as the reports.
    mail.grantSend(fn);
    acknowledgeReportsPrefix(fn, storage);
  }

  private grantSecretRead(fn: lambda.Function, sid: string, secretArn: string): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid,
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [secretArn],
      }),
    );
  }

  private makeFunction(
    id: 'Scheduled' | 'Worker' | 'Api' | 'Sweeper' | 'SesEvents',
    name: HandlerName,
    sizing: FunctionSizing,
    variables: Record<string, string>,
  ) {
    const { props } = this;
    // The handler's logger and metrics name themselves after it.
    const environment: Record<string, string> = { ...variables, POWERTOOLS_SERVICE_NAME: name };
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    // An explicit role instead of the default one: the default attaches the AWS managed
    // AWSLambdaBasicExecutionRole (logs:* on every log group); this one writes to its own group only.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${name} function`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    const bytes = environmentBytes(environment) + (id === 'Scheduled' ? LATER_VARIABLES_BYTES : 0);
    if (bytes > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
      throw new EnvironmentTooLargeError(
        name,
        bytes,
        Buffer.byteLength(environment.REPORT_DEFINITIONS ?? ''),
      );
    }
    const code = props.code?.(name);
    const fn = new nodejs.NodejsFunction(this, id, {
      description: `Verifik reports: ${name}`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: sizing.memoryMb,
      timeout: Duration.seconds(sizing.timeoutSeconds),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      // No X-Ray: nothing creates segments or subsegments (no Powertools Tracer, no instrumented
      // SDK clients), so active tracing recorded only Lambda's own invocation segment, and cost
      // traces plus an xray:Put* "*" grant. The JSON logs and the alarms already cover a run.
      tracing: lambda.Tracing.DISABLED,
      environment,
      reservedConcurrentExecutions: name === 'report-worker' ? props.workerReservedConcurrency : undefined,
      ...(code
        ? { code, handler: 'index.handler' }
        : {
            entry: handlerEntry(name),
            handler: 'handler',
            projectRoot: REPO_ROOT,
            depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
            bundling: BUNDLING,
          }),
    });
    return fn;
  }
}

/** The one wildcard cdk-nag sees in our own statements: objects under the reports prefix. */
function acknowledgeReportsPrefix(fn: lambda.Function, storage: ReportStorage): void {
  Validations.of(fn.role!).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(storage.bucket)}.Arn>/${REPORTS_PREFIX}*]`,
    reason:
      'Report files have a new key per run (reports/<definition>/<date>/<id>/...), so access is scoped to the reports/ prefix, the narrowest fixed scope.',
  });
}
