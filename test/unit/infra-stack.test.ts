/**
 * Fine-grained assertions on the synthesised template. The stack is built once, with stub
 * function code instead of esbuild bundling, so this file runs in about a second and does not
 * depend on the handler sources.
 */

import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../functions/contract.js';
import { createSecretCache, SecretNotSetError } from '../../functions/delivery/secrets.js';
import { buildApp } from '../../infra/build-app.js';
import { expectDeletionPolicy } from '../support/cdk-template.js';

type Json = Record<string, unknown>;
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
}

let template: Template;
let resources: Record<string, { Type: string; Properties: Json }>;

beforeAll(() => {
  const { stack } = buildApp({
    nag: false,
    functionCode: () => Code.fromInline('exports.handler = async () => ({})'),
  });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});

/** Logical id of the only resource of `type` whose id starts with `prefix`. */
function idOf(type: string, prefix: string): string {
  const ids = Object.entries(resources)
    .filter(([id, r]) => r.Type === type && id.startsWith(prefix))
    .map(([id]) => id);
  expect(ids, `${type} ${prefix}*`).toHaveLength(1);
  return ids[0]!;
}

function functionId(label: 'Scheduled' | 'Worker' | 'Api' | 'Sweeper' | 'SesEvents'): string {
  return idOf('AWS::Lambda::Function', `Functions${label}`);
}

/**
 * The CDK's BucketDeployment provider (console-hosting.ts): a deploy-time Python function with a
 * role aws-cdk-lib writes, cdk-nag-acknowledged there. The checks on our own functions leave it out.
 */
const isBucketDeploymentProvider = (id: string) => id.startsWith('CustomCDKBucketDeployment');

function policyStatements(roleIdPrefix: string): Statement[] {
  const roleId = idOf('AWS::IAM::Role', roleIdPrefix);
  const policies = Object.values(resources).filter(
    (r) =>
      r.Type === 'AWS::IAM::Policy' &&
      JSON.stringify((r.Properties as { Roles: unknown }).Roles) === JSON.stringify([{ Ref: roleId }]),
  );
  return policies.flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

function bySid(statements: Statement[], sid: string): Statement {
  const found = statements.filter((s) => s.Sid === sid);
  expect(found, sid).toHaveLength(1);
  return found[0]!;
}

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
const getAtt = (id: string, attr = 'Arn') => ({ 'Fn::GetAtt': [id, attr] });

function env(label: 'Scheduled' | 'Worker' | 'Api' | 'Sweeper' | 'SesEvents'): Json {
  return (resources[functionId(label)]!.Properties.Environment as { Variables: Json }).Variables;
}

describe('functions', () => {
  it('are seven nodejs24.x functions on arm64 with JSON logs and no X-Ray tracing (nothing is traced)', () => {
    // The three report functions, the sweeper, ses-events, token-rotation (token-renewal.ts) and
    // the console's sign-in guard (console-users.ts); apart from the CDK's BucketDeployment provider.
    const ours = Object.entries(resources).filter(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && !isBucketDeploymentProvider(id),
    );
    expect(ours).toHaveLength(7);
    for (const [id, r] of ours) {
      expect(r.Properties, id).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.any(String) } },
      });
      expect(r.Properties.TracingConfig, id).toBeUndefined();
    }
  });

  it('are sized from the configuration (3008 MB / 900 s for runs, 512 MB / 29 s for the API)', () => {
    // 3,008 MB: the most a new account's Lambda quota allows; more fails the deploy there.
    expect(resources[functionId('Scheduled')]!.Properties).toMatchObject({ MemorySize: 3008, Timeout: 900 });
    expect(resources[functionId('Worker')]!.Properties).toMatchObject({ MemorySize: 3008, Timeout: 900 });
    expect(resources[functionId('Api')]!.Properties).toMatchObject({ MemorySize: 512, Timeout: 29 });
  });

  it('write to their own log group with the configured retention', () => {
    for (const label of ['Scheduled', 'Worker', 'Api'] as const) {
      const logGroup = idOf('AWS::Logs::LogGroup', `Functions${label}Logs`);
      expect(resources[logGroup]!.Properties.RetentionInDays).toBe(90);
      const logging = resources[functionId(label)]!.Properties.LoggingConfig as Json;
      expect(logging.LogGroup).toEqual({ Ref: logGroup });
    }
    expect(resources[idOf('AWS::Logs::LogGroup', 'ApiAccessLogs')]!.Properties.RetentionInDays).toBe(90);
  });

  it('get the environment the functions parse, with the two role-specific variables only where they belong', () => {
    for (const label of ['Scheduled', 'Worker', 'Api'] as const) {
      const vars = env(label);
      expect(vars).toMatchObject({
        REPORTS_BUCKET: { Ref: idOf('AWS::S3::Bucket', 'StorageReports') },
        REPORTS_PREFIX: 'reports/',
        STATE_TABLE: { Ref: idOf('AWS::DynamoDB::Table', 'StorageState') },
        VERIFIK_BASE_URL: 'https://api.verifik.co',
        VERIFIK_CONCURRENCY: '8',
        VERIFIK_TOKEN_SECRET_ID: { Ref: idOf('AWS::SecretsManager::Secret', 'SecretsVerifikToken') },
        LINK_SIGNING_SECRET_ID: { Ref: idOf('AWS::SecretsManager::Secret', 'SecretsLinkSigningKey') },
        MAIL_FROM: 'reports@example.com',
        SES_CONFIGURATION_SET: { Ref: idOf('AWS::SES::ConfigurationSet', 'Mail') },
        ALLOWED_RECIPIENT_DOMAINS: 'example.com',
        LINK_TTL_SECONDS: String(7 * 86_400),
        ATTACHMENT_BUDGET_BYTES: String(7 * 1024 * 1024),
        // DEP0005 (exceljs → archiver-utils' `new Buffer()`) silenced, every other warning kept.
        NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=4 --disable-warning=DEP0005',
        MALLOC_ARENA_MAX: '2',
        POWERTOOLS_METRICS_NAMESPACE: 'VerifikReports',
      });
      const definitions = JSON.parse(vars.REPORT_DEFINITIONS as string) as { name: string }[];
      expect(definitions.map((d) => d.name)).toEqual(['daily-all']);
    }
    expect(env('Api').WORKER_FUNCTION_NAME).toEqual({ Ref: functionId('Worker') });
    expect(env('Scheduled').WORKER_FUNCTION_NAME).toBeUndefined();
    expect(env('Worker').WORKER_FUNCTION_NAME).toBeUndefined();
    // The API's own endpoint (https://<id>.execute-api.<region>.amazonaws.com, no trailing
    // slash): links are built as `${PUBLIC_API_URL}/reports/...`.
    expect(env('Scheduled').PUBLIC_API_URL).toEqual(
      getAtt(idOf('AWS::ApiGatewayV2::Api', 'ApiHttp'), 'ApiEndpoint'),
    );
    // The worker must not reference the API (it would close a dependency cycle).
    expect(env('Worker').PUBLIC_API_URL).toBeUndefined();
    expect(env('Api').PUBLIC_API_URL).toBeUndefined();
  });

  it('send failed asynchronous runs to an encrypted queue after two retries', () => {
    const failedRuns = idOf('AWS::SQS::Queue', 'FunctionsFailedRuns');
    for (const label of ['Scheduled', 'Worker'] as const) {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: functionId(label) },
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: getAtt(failedRuns) } },
      });
    }
    expect(resources[failedRuns]!.Properties.SqsManagedSseEnabled).toBe(true);
  });

  it('leave the worker without reserved concurrency by default (a fresh account has only 10)', () => {
    expect(resources[functionId('Worker')]!.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });
});

describe('schedules', () => {
  it('fire the daily definition at 06:00 in its own time zone, with its name and the fire time as input', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 6 * * ? *)',
      ScheduleExpressionTimezone: 'America/Bogota',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: getAtt(functionId('Scheduled')),
        // The fire time rides along, so a retry after midnight still reports the fire's day.
        Input: JSON.stringify({ definition: 'daily-all', scheduledTime: '<aws.scheduler.scheduled-time>' }),
      }),
    });
  });

  it('have an explicit retry policy and an encrypted, TLS-only dead-letter queue', () => {
    const dlq = idOf('AWS::SQS::Queue', 'SchedulesDeadLetters');
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({
        RetryPolicy: { MaximumEventAgeInSeconds: 6 * 3600, MaximumRetryAttempts: 3 },
        DeadLetterConfig: { Arn: getAtt(dlq) },
      }),
    });
    expect(resources[dlq]!.Properties.SqsManagedSseEnabled).toBe(true);
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlq }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('use a role that can invoke the scheduled function only, not its versions', () => {
    const statements = policyStatements('SchedulesInvokeRole');
    const invoke = statements.filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(1);
    expect(resourcesOf(invoke[0]!)).toEqual([getAtt(functionId('Scheduled'))]);
  });
});

describe('IAM', () => {
  const bucket = () => idOf('AWS::S3::Bucket', 'StorageReports');
  const reportsObjects = () => ({ 'Fn::Join': ['', [getAtt(bucket()), '/reports/*']] });
  const tokenSecret = () => ({ Ref: idOf('AWS::SecretsManager::Secret', 'SecretsVerifikToken') });
  const linkSecret = () => ({ Ref: idOf('AWS::SecretsManager::Secret', 'SecretsLinkSigningKey') });

  it('lets the report runs use S3 only under reports/', () => {
    for (const role of ['FunctionsScheduledRole', 'FunctionsWorkerRole']) {
      const statements = policyStatements(role);
      const write = bySid(statements, 'WriteReportFiles');
      expect(resourcesOf(write)).toEqual([reportsObjects()]);
      expect(actionsOf(write).sort()).toEqual(
        [
          's3:AbortMultipartUpload',
          's3:DeleteObject',
          's3:GetObject',
          's3:ListMultipartUploadParts',
          's3:PutObject',
        ].sort(),
      );
      const list = bySid(statements, 'ListReportsPrefix');
      expect(resourcesOf(list)).toEqual([getAtt(bucket())]);
      expect(list.Condition).toEqual({ StringLike: { 's3:prefix': ['reports/*'] } });
      const uploads = bySid(statements, 'FindAbandonedUploads');
      expect(actionsOf(uploads)).toEqual(['s3:ListBucketMultipartUploads']);
      expect(resourcesOf(uploads)).toEqual([getAtt(bucket())]);
      const s3 = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
      expect(s3).toHaveLength(3);
    }
  });

  it('lets the API only read report objects', () => {
    const statements = policyStatements('FunctionsApiRole');
    const s3 = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
    expect(s3).toHaveLength(1);
    expect(actionsOf(s3[0]!)).toEqual(['s3:GetObject']);
    expect(resourcesOf(s3[0]!)).toEqual([reportsObjects()]);
  });

  it('gives the Verifik token to the report runs only, and the link key to all three', () => {
    const secretReads = (role: string) =>
      policyStatements(role)
        .filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'))
        .flatMap(resourcesOf);
    expect(secretReads('FunctionsScheduledRole')).toEqual([tokenSecret(), linkSecret()]);
    expect(secretReads('FunctionsWorkerRole')).toEqual([tokenSecret(), linkSecret()]);
    expect(secretReads('FunctionsApiRole')).toEqual([linkSecret()]);
    // The console's health strip: the token secret's metadata only (its rotation dates), never its value.
    const health = bySid(policyStatements('FunctionsApiRole'), 'ConsoleTokenHealth');
    expect(actionsOf(health)).toEqual(['secretsmanager:DescribeSecret']);
    expect(resourcesOf(health)).toEqual([tokenSecret()]);
  });

  it('sends mail only as the configured identity through the configuration set, from MAIL_FROM', () => {
    // The API sends only to re-send a stored report (POST /reports/{id}/resend), under the same rule.
    for (const role of ['FunctionsScheduledRole', 'FunctionsWorkerRole', 'FunctionsApiRole']) {
      const send = bySid(policyStatements(role), 'SendReportMailAsConfiguredSender');
      expect(actionsOf(send)).toEqual(['ses:SendEmail', 'ses:SendRawEmail']);
      expect(send.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'reports@example.com' } });
      const text = resourcesOf(send).map((r) => JSON.stringify(r));
      expect(text[0]).toContain(':identity/');
      expect(text[0]).toContain(`"Ref":"${idOf('AWS::SES::EmailIdentity', 'Mail')}"`);
      expect(text[1]).toContain(':configuration-set/');
      expect(text[1]).toContain(`"Ref":"${idOf('AWS::SES::ConfigurationSet', 'Mail')}"`);
      // Sandbox recipients: the configured addresses by name, never a wildcard.
      expect(text.slice(2)).toEqual([
        expect.stringContaining(':identity/compliance@example.com'),
        expect.stringContaining(':identity/platform@example.com'),
      ]);
    }
    const apiSes = policyStatements('FunctionsApiRole').filter((s) =>
      actionsOf(s).some((a) => a.startsWith('ses:')),
    );
    expect(apiSes).toHaveLength(1);
  });

  it('lets only the API invoke the worker, and the scheduled function for backfills, by unqualified ARNs', () => {
    const invoke = (role: string) =>
      policyStatements(role).filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
    expect(invoke('FunctionsApiRole').flatMap(resourcesOf)).toEqual([
      getAtt(functionId('Worker')),
      getAtt(functionId('Scheduled')),
    ]);
    expect(bySid(policyStatements('FunctionsApiRole'), 'StartScheduledRun')).toBeDefined();
    expect(env('Api').SCHEDULED_FUNCTION_NAME).toEqual({ Ref: functionId('Scheduled') });
    expect(invoke('FunctionsScheduledRole')).toEqual([]);
    expect(invoke('FunctionsWorkerRole')).toEqual([]);
  });

  it('scopes DynamoDB to the state table (and the API to its byDate and open indexes)', () => {
    const table = idOf('AWS::DynamoDB::Table', 'StorageState');
    const run = bySid(policyStatements('FunctionsScheduledRole'), 'ClaimsAndStatus');
    expect(resourcesOf(run)).toEqual([getAtt(table)]);
    expect(actionsOf(run)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    const api = bySid(policyStatements('FunctionsApiRole'), 'ReportRecords');
    expect(resourcesOf(api)).toEqual([
      getAtt(table),
      { 'Fn::Join': ['', [getAtt(table), '/index/byDate']] },
      { 'Fn::Join': ['', [getAtt(table), '/index/open']] },
    ]);
    expect(actionsOf(api)).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:Query',
    ]);
  });

  it('has no "*" resource and no X-Ray grant anywhere (but in the CDK BucketDeployment provider)', () => {
    const all = Object.entries(resources)
      .filter(([id, r]) => r.Type === 'AWS::IAM::Policy' && !isBucketDeploymentProvider(id))
      .map(([, r]) => r)
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    expect(all.length).toBeGreaterThan(20);
    for (const s of all) {
      const wildcard = resourcesOf(s).some((r) => typeof r === 'string' && r.includes('*'));
      expect(wildcard, JSON.stringify(s)).toBe(false);
      expect(
        actionsOf(s).some((a) => a.startsWith('xray:')),
        JSON.stringify(s),
      ).toBe(false);
      expect(
        actionsOf(s).some((a) => a.endsWith(':*') || a === '*'),
        JSON.stringify(s),
      ).toBe(false);
    }
  });

  it('offers API callers a policy for every IAM route, on the $default stage only', () => {
    const policies = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::ManagedPolicy');
    expect(policies).toHaveLength(1);
    const [statement, ...rest] = (policies[0]!.Properties.PolicyDocument as { Statement: Statement[] })
      .Statement;
    expect(rest).toEqual([]);
    expect(actionsOf(statement!)).toEqual(['execute-api:Invoke']);
    const routes = resourcesOf(statement!).map((r) => {
      const parts = (r as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      return parts[parts.length - 1];
    });
    expect(routes).toEqual([
      '/$default/POST/reports',
      '/$default/GET/reports',
      '/$default/GET/reports/*',
      '/$default/POST/reports/*/resend',
      '/$default/GET/definitions',
      '/$default/POST/definitions/*/backfill',
      '/$default/POST/definitions/*/pause',
      '/$default/POST/definitions/*/resume',
    ]);
  });

  it('attaches no AWS managed policies to function roles (but the CDK BucketDeployment provider’s)', () => {
    for (const [id, r] of Object.entries(resources).filter(
      ([id, r]) => r.Type === 'AWS::IAM::Role' && !isBucketDeploymentProvider(id),
    )) {
      expect(r.Properties.ManagedPolicyArns, id).toBeUndefined();
    }
  });
});

describe('storage', () => {
  it('blocks public access, enforces TLS, encrypts and logs access on the reports bucket', () => {
    const bucket = idOf('AWS::S3::Bucket', 'StorageReports');
    expect(resources[bucket]!.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LoggingConfiguration: { DestinationBucketName: { Ref: idOf('AWS::S3::Bucket', 'StorageAccessLogs') } },
    });
    expect(resources[bucket]!.Properties.VersioningConfiguration).toBeUndefined();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  it('expires reports after the retention and aborts incomplete uploads after a day', () => {
    const rules = (
      resources[idOf('AWS::S3::Bucket', 'StorageReports')]!.Properties.LifecycleConfiguration as Json
    ).Rules as Json[];
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Id: 'expire-reports',
          Prefix: 'reports/',
          ExpirationInDays: 90,
          Status: 'Enabled',
        }),
        expect.objectContaining({
          Id: 'abort-incomplete-uploads',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        }),
      ]),
    );
  });

  it('retains data on stack deletion by default', () => {
    expectDeletionPolicy(template, 'Retain');
  });

  it('keeps state in an on-demand table with the keys, index, TTL and PITR the functions expect', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'byDate',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
        }),
        Match.objectLike({
          IndexName: 'open',
          KeySchema: [
            { AttributeName: 'gsi2pk', KeyType: 'HASH' },
            { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
          ],
        }),
      ],
    });
  });
});

/** The first 8 hex digits of the stack id's UUID: what names differ by from one deployment to the next. */
const STACK_INSTANCE = {
  'Fn::Select': [
    0,
    { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] },
  ],
};

/** Properties that name a resource uniquely in an account and region: a fixed one collides on re-deploy. */
const UNIQUE_NAME_PROPERTIES: Record<string, string> = {
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::Scheduler::ScheduleGroup': 'Name',
  'AWS::Scheduler::Schedule': 'Name',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::KMS::Alias': 'AliasName',
  'AWS::SES::ConfigurationSet': 'Name',
};

describe('stack deletion and a deploy after it (README "Destroy")', () => {
  type Resource = { Type: string; DeletionPolicy?: string; Properties?: Json };
  let destroyed: Record<string, Resource>;

  beforeAll(() => {
    const { stack } = buildApp({
      nag: false,
      functionCode: () => Code.fromInline('exports.handler = async () => ({})'),
      context: { reporting: { removalPolicy: 'destroy' } },
    });
    destroyed = Template.fromStack(stack).toJSON().Resources;
  });

  const retainedTypes = (all: Record<string, Resource>) =>
    [
      ...new Set(
        Object.values(all)
          .filter((r) => r.DeletionPolicy === 'Retain')
          .map((r) => r.Type),
      ),
    ].sort();

  it('with retain keeps exactly the buckets, table, secrets, log groups, the alarm key and the console users', () => {
    expect(retainedTypes(resources)).toEqual(
      [
        'AWS::Cognito::UserPool',
        'AWS::DynamoDB::Table',
        'AWS::KMS::Key',
        'AWS::Logs::LogGroup',
        'AWS::S3::Bucket',
        'AWS::SecretsManager::Secret',
      ].sort(),
    );
    const count = (type: string) =>
      Object.values(resources).filter((r) => r.Type === type && (r as Resource).DeletionPolicy === 'Retain')
        .length;
    expect([
      count('AWS::S3::Bucket'),
      count('AWS::Logs::LogGroup'),
      count('AWS::SecretsManager::Secret'),
      // + the console's assets bucket and its sign-in guard's log group.
    ]).toEqual([3, 8, 2]);
  });

  it('with destroy keeps nothing', () => {
    expect(retainedTypes(destroyed)).toEqual([]);
    for (const r of Object.values(destroyed).filter((r) => r.DeletionPolicy !== undefined))
      expect(r.DeletionPolicy, r.Type).toBe('Delete');
  });

  it("removes the schedule group in both cases (it holds only the stack's schedules)", () => {
    for (const all of [resources as Record<string, Resource>, destroyed]) {
      const groups = Object.values(all).filter((r) => r.Type === 'AWS::Scheduler::ScheduleGroup');
      expect(groups).toHaveLength(1);
      expect(groups[0]!.DeletionPolicy).toBe('Delete');
    }
  });

  it('names the secrets and the schedule group after the stack and its instance, so they never collide', () => {
    for (const all of [resources as Record<string, Resource>, destroyed]) {
      const named = (type: string) =>
        Object.values(all)
          .filter((r) => r.Type === type)
          .map((r) => r.Properties?.Name);
      expect(named('AWS::SecretsManager::Secret')).toEqual([
        { 'Fn::Join': ['', ['VerifikReports-', STACK_INSTANCE, '/verifik-token']] },
        { 'Fn::Join': ['', ['VerifikReports-', STACK_INSTANCE, '/link-signing-key']] },
      ]);
      expect(named('AWS::Scheduler::ScheduleGroup')).toEqual([
        { 'Fn::Join': ['', ['VerifikReports-schedules-', STACK_INSTANCE]] },
      ]);
    }
  });

  it('gives no resource a fixed name that a retained or deleted earlier one could hold', () => {
    for (const all of [resources as Record<string, Resource>, destroyed]) {
      for (const r of Object.values(all)) {
        const property = UNIQUE_NAME_PROPERTIES[r.Type];
        const name = property ? r.Properties?.[property] : undefined;
        if (name === undefined) continue;
        expect(JSON.stringify(name), `${r.Type}.${property}`).toContain('"AWS::StackId"');
      }
    }
  });
});

describe('secrets and mail', () => {
  it('creates the Verifik token as a recognisable placeholder (no token) and a generated link key of 64 characters', async () => {
    const token = resources[idOf('AWS::SecretsManager::Secret', 'SecretsVerifikToken')]!.Properties;
    expect(token.SecretString).toBe('REPLACE_ME');
    // The functions refuse this value with the put-secret-value command to run.
    const holdsPlaceholder = { send: async () => ({ SecretString: token.SecretString }) };
    await expect(
      createSecretCache(holdsPlaceholder as unknown as SecretsManagerClient).get(
        'VerifikReports/verifik-token',
      ),
    ).rejects.toThrow(SecretNotSetError);
    expect(token.GenerateSecretString).toBeUndefined();
    expect(token.Name).toEqual({ 'Fn::Join': ['', ['VerifikReports-', STACK_INSTANCE, '/verifik-token']] });
    const key = resources[idOf('AWS::SecretsManager::Secret', 'SecretsLinkSigningKey')]!.Properties;
    expect(key.SecretString).toBeUndefined();
    expect(key.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
  });

  it('verifies the sender domain and requires TLS for delivery', () => {
    template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'example.com',
      ConfigurationSetAttributes: {
        ConfigurationSetName: { Ref: idOf('AWS::SES::ConfigurationSet', 'Mail') },
      },
    });
    template.hasResourceProperties('AWS::SES::ConfigurationSet', {
      DeliveryOptions: { TlsPolicy: 'REQUIRE' },
    });
  });
});

describe('API', () => {
  const routes = () =>
    Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
      .map((r) => r.Properties as { RouteKey: string; AuthorizationType: string });

  it('requires IAM on the report routes and nothing but the signature on the file route', () => {
    const all = Object.fromEntries(routes().map((r) => [r.RouteKey, r.AuthorizationType]));
    // The console's routes: Cognito JWT (console-api.ts), the group checked by the function.
    const { 'GET /console/{proxy+}': consoleGet, 'POST /console/{proxy+}': consolePost, ...byKey } = all;
    expect([consoleGet, consolePost]).toEqual(['JWT', 'JWT']);
    expect(byKey).toEqual({
      'POST /reports': 'AWS_IAM',
      'GET /reports': 'AWS_IAM',
      'GET /reports/{id}': 'AWS_IAM',
      'GET /reports/{id}/files/{name}': 'NONE',
      'POST /reports/{id}/resend': 'AWS_IAM',
      'GET /definitions': 'AWS_IAM',
      'POST /definitions/{name}/backfill': 'AWS_IAM',
      'POST /definitions/{name}/pause': 'AWS_IAM',
      'POST /definitions/{name}/resume': 'AWS_IAM',
    });
    // Every route of the contract is declared, so none is API Gateway's 404 in AWS only.
    expect(Object.keys(byKey).sort()).toEqual(
      Object.values(API_ROUTES)
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    );
  });

  it('has no catch-all route: the only greedy paths are the console’s, under /console and JWT-authorized', () => {
    expect(routes().map((r) => r.RouteKey)).not.toContain('$default');
    const greedy = routes().filter((r) => r.RouteKey.includes('{proxy+}') || r.RouteKey.startsWith('ANY'));
    expect(greedy.map((r) => `${r.RouteKey} ${r.AuthorizationType}`).sort()).toEqual([
      'GET /console/{proxy+} JWT',
      'POST /console/{proxy+} JWT',
    ]);
  });

  it('throttles the stage and logs access without query strings', () => {
    const stage = resources[idOf('AWS::ApiGatewayV2::Stage', 'ApiDefaultStage')]!.Properties;
    expect(stage).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingBurstLimit: 20, ThrottlingRateLimit: 10 },
      AccessLogSettings: { DestinationArn: getAtt(idOf('AWS::Logs::LogGroup', 'ApiAccessLogs')) },
    });
    const format = (stage.AccessLogSettings as { Format: string }).Format;
    expect(JSON.parse(format)).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
    });
    expect(format).not.toMatch(/querystring|\$context\.requestUri|signature/i);
  });
});

describe('alarms', () => {
  it('watch errors, throttles and near-timeouts of each function, both queues and API 5xx', () => {
    // Six functions (sweeper, ses-events and token-rotation included), two queues, API 5xx, the token's
    // days left, failed fan-out executions.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6 * 3 + 2 + 1 + 1 + 1);
    const topic = idOf('AWS::SNS::Topic', 'AlarmsTopic');
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: topic }] });
    for (const metric of ['Errors', 'Throttles']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: 'AWS/Lambda',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId('Worker') } }],
        Threshold: 1,
      });
    }
  });

  it('fire on duration at 80% of each timeout', () => {
    const thresholds = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'Duration' } }),
    )
      .map((a) => (a as { Properties: { Threshold: number } }).Properties.Threshold)
      .sort((a, b) => a - b);
    // API 29 s, ses-events 30 s, token-rotation 60 s, sweeper 300 s, the two runs 900 s.
    expect(thresholds).toEqual([23_200, 24_000, 48_000, 240_000, 720_000, 720_000]);
  });

  it('fire on any visible dead-letter message', () => {
    for (const queue of ['SchedulesDeadLetters', 'FunctionsFailedRuns']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: getAtt(idOf('AWS::SQS::Queue', queue), 'QueueName') }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it('publish to a KMS-encrypted, TLS-only topic the owners subscribe to by e-mail', () => {
    const topic = idOf('AWS::SNS::Topic', 'AlarmsTopic');
    expect(resources[topic]!.Properties.KmsMasterKeyId).toEqual(
      getAtt(idOf('AWS::KMS::Key', 'AlarmsTopicKey')),
    );
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'platform@example.com',
      TopicArn: { Ref: topic },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('outputs', () => {
  it('name the API URL, bucket, table, secrets, functions and topic', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining([
        'ApiUrl',
        'ReportsBucketName',
        'AccessLogsBucketName',
        'StateTableName',
        'VerifikTokenSecretArn',
        'VerifikTokenSecretName',
        'LinkSigningSecretArn',
        'LinkSigningSecretName',
        'ScheduledFunctionName',
        'AlarmTopicArn',
        'ApiCallerPolicyArn',
        'ScheduledLogGroupName',
        'WorkerLogGroupName',
        'ApiLogGroupName',
        'SesIdentity',
        'DkimRecord1',
      ]),
    );
    expect(outputs.ReportsBucketName!.Value).toEqual({ Ref: idOf('AWS::S3::Bucket', 'StorageReports') });
    expect(outputs.ApiUrl!.Value).toEqual(getAtt(idOf('AWS::ApiGatewayV2::Api', 'ApiHttp'), 'ApiEndpoint'));
  });
});

describe('Verifik token renewal (token-renewal.ts)', () => {
  const secret = () => idOf('AWS::SecretsManager::Secret', 'SecretsVerifikToken');
  const tokenFn = () => idOf('AWS::Lambda::Function', 'TokenRenewalFunction');

  it('rotates the token secret every 7 days with token-rotation, not at deploy time (the placeholder is still in it)', () => {
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 1);
    const [id, rotation] = Object.entries(
      template.findResources('AWS::SecretsManager::RotationSchedule'),
    )[0]!;
    expect(id).toMatch(/^TokenRenewalRotation/);
    expect(rotation.Properties).toEqual({
      SecretId: { Ref: secret() },
      RotationLambdaARN: getAtt(tokenFn()),
      RotationRules: { ScheduleExpression: 'rate(7 days)' },
      RotateImmediatelyOnUpdate: false,
    });
    // Secrets Manager tests the function when the schedule is created: invoke right and secret access first.
    expect(rotation.DependsOn).toEqual(
      expect.arrayContaining([
        idOf('AWS::Lambda::Permission', 'TokenRenewalInvokedBySecretsManager'),
        idOf('AWS::IAM::Policy', 'TokenRenewalRotateTokenSecret'),
      ]),
    );
  });

  it('Secrets Manager may invoke it for the token secret only; the daily watch rule with {"action":"watch"}', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { Ref: tokenFn() },
      Principal: 'secretsmanager.amazonaws.com',
      SourceArn: { Ref: secret() },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 8 * * ? *)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: getAtt(tokenFn()),
          Input: JSON.stringify({ action: 'watch' }),
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 6 * 3600 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: getAtt(tokenFn()),
      Principal: 'events.amazonaws.com',
      SourceArn: getAtt(idOf('AWS::Events::Rule', 'TokenRenewalWatchRule')),
    });
  });

  it('its role may rotate that one secret, send as the sender and write its own logs: nothing else', () => {
    const roleId = idOf('AWS::IAM::Role', 'TokenRenewalRole');
    const statements = Object.values(resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' &&
          JSON.stringify((r.Properties as { Roles: unknown }).Roles) === JSON.stringify([{ Ref: roleId }]),
      )
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    expect(statements.map((s) => s.Sid).sort()).toEqual(
      ['RotateVerifikToken', 'SendReportMailAsConfiguredSender', 'WriteOwnLogs'].sort(),
    );
    const rotate = bySid(statements, 'RotateVerifikToken');
    expect(actionsOf(rotate).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
    ]);
    expect(resourcesOf(rotate)).toEqual([{ Ref: secret() }]);
    expect(resourcesOf(bySid(statements, 'WriteOwnLogs'))).toEqual([
      getAtt(idOf('AWS::Logs::LogGroup', 'TokenRenewalLogs')),
    ]);
    expect(JSON.stringify(statements)).not.toMatch(/"\*"|GetRandomPassword|LinkSigningKey/);
    // No other function may write the token: only the rotation changes it.
    const writers = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((s) => actionsOf(s).includes('secretsmanager:PutSecretValue'));
    expect(writers.map((s) => s.Sid)).toEqual(['RotateVerifikToken']);
  });

  it('is told which secret, how long a renewal lasts, when to alert and whom', () => {
    const fn = resources[tokenFn()]!.Properties;
    expect(fn).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 60,
    });
    expect((fn.Environment as { Variables: Json }).Variables).toMatchObject({
      VERIFIK_TOKEN_SECRET_ID: { Ref: secret() },
      VERIFIK_BASE_URL: 'https://api.verifik.co',
      TOKEN_RENEWAL_MONTHS: '1',
      TOKEN_ALERT_DAYS: '7',
      TOKEN_ALERT_RECIPIENTS: 'platform@example.com',
      MAIL_FROM: 'reports@example.com',
      ALLOWED_RECIPIENT_DOMAINS: 'example.com',
      POWERTOOLS_SERVICE_NAME: 'token-rotation',
      POWERTOOLS_METRICS_NAMESPACE: 'VerifikReports',
    });
  });

  it('alarms the owners when the token has 7 days or fewer left', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'VerifikReports',
      MetricName: 'VerifikTokenDaysLeft',
      Dimensions: [{ Name: 'service', Value: 'token-rotation' }],
      Statistic: 'Minimum',
      Period: 86_400,
      EvaluationPeriods: 1,
      Threshold: 7,
      ComparisonOperator: 'LessThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: idOf('AWS::SNS::Topic', 'AlarmsTopic') }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: tokenFn() } }],
    });
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.TokenRotationFunctionName?.Value).toEqual({ Ref: tokenFn() });
  });

  it('says what the function reads and publishes in the function’s own words', async () => {
    const infra = await import('../../infra/constructs/token-renewal.js');
    const watch = await import('../../functions/runs/token-watch.js');
    const handler = await import('../../functions/handlers/token-rotation.js');
    const token = await import('../../functions/verifik/token.js');
    expect(infra.TOKEN_DAYS_LEFT_METRIC).toBe(watch.TOKEN_DAYS_LEFT_METRIC);
    expect(infra.WATCH_INPUT).toEqual(handler.WATCH_EVENT);
    expect(infra.ALERT_DAYS).toBe(watch.DEFAULT_TOKEN_ALERT_DAYS);
    expect(infra.RENEWAL_MONTHS).toBe(token.DEFAULT_RENEWAL_MONTHS);
  });
});

describe('delivery watch', () => {
  it("publishes the configuration set's SES events to the default bus and routes them to ses-events", () => {
    template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      EventDestination: Match.objectLike({
        Enabled: true,
        MatchingEventTypes: Match.arrayWith(['send', 'delivery', 'bounce', 'complaint', 'reject']),
        EventBridgeDestination: { EventBusArn: Match.anyValue() },
      }),
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.ses'],
        'detail-type': Match.arrayWith(['Email Sent', 'Email Bounced']),
      }),
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId('SesEvents'), 'Arn'] } })],
    });
  });

  it('runs the sweeper every 5 minutes, which may start only the scheduled function again', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId('Sweeper'), 'Arn'] } })],
    });
    expect(env('Sweeper').SCHEDULED_FUNCTION_NAME).toEqual({ Ref: functionId('Scheduled') });
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p).includes('RedoScheduledRun'),
    );
    expect(policies).toHaveLength(1);
    expect(JSON.stringify(policies[0])).toContain(functionId('Scheduled'));
  });
});

describe('API throttling', () => {
  it('gives the anonymous download route its own throttle, apart from the IAM routes', () => {
    const stage = resources[idOf('AWS::ApiGatewayV2::Stage', 'ApiDefaultStage')]!.Properties;
    expect(stage.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 });
    expect(stage.RouteSettings).toEqual({
      'GET /reports/{id}/files/{name}': { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });
});
