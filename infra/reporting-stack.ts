/**
 * The whole system in one stack: storage, secrets, mail, functions, API, schedules, alarms.
 * Built from a validated DeploymentConfig; every choice with a reason lives in a construct.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { disallowedRecipients } from '../functions/contract.js';
import { alarmRecipients, type DeploymentConfig } from './config.js';
import { ReportAlarms } from './constructs/alarms.js';
import { ConsoleApi } from './constructs/console-api.js';
import { ConsoleHosting } from './constructs/console-hosting.js';
import { ConsoleUsers } from './constructs/console-users.js';
import { DeliveryWatch } from './constructs/delivery-watch.js';
import { grantDestinationSecrets } from './constructs/destination-secrets.js';
import { ReportApi } from './constructs/report-api.js';
import { ReportFanOut } from './constructs/report-fanout.js';
import { type HandlerName, ReportFunctions } from './constructs/report-functions.js';
import { configuredAddresses, ReportMail } from './constructs/report-mail.js';
import { ReportSchedules } from './constructs/report-schedules.js';
import { ReportSecrets } from './constructs/report-secrets.js';
import { ReportStorage } from './constructs/report-storage.js';
import { stackInstanceId } from './constructs/stack-instance.js';
import { TokenRenewal } from './constructs/token-renewal.js';

export interface ReportingStackProps extends StackProps {
  readonly config: DeploymentConfig;
  /** Prebuilt function code instead of esbuild bundling (unit tests). */
  readonly functionCode?: (name: HandlerName) => lambda.Code;
}

export class ReportingStack extends Stack {
  readonly storage: ReportStorage;
  readonly secrets: ReportSecrets;
  readonly mail: ReportMail;
  readonly functions: ReportFunctions;
  readonly api: ReportApi;
  readonly schedules: ReportSchedules;
  readonly deliveryWatch: DeliveryWatch;
  readonly alarms: ReportAlarms;
  readonly tokenRenewal: TokenRenewal;
  readonly fanOut: ReportFanOut;
  readonly consoleUsers: ConsoleUsers;
  readonly consoleHosting: ConsoleHosting;
  readonly consoleApi: ConsoleApi;

  constructor(scope: Construct, id: string, props: ReportingStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    this.storage = new ReportStorage(this, 'Storage', {
      reportRetentionDays: config.reportRetentionDays,
      removalPolicy,
    });
    this.secrets = new ReportSecrets(this, 'Secrets', {
      namePrefix: `${this.stackName}-${stackInstanceId(this)}`,
      removalPolicy,
    });
    this.mail = new ReportMail(this, 'Mail', {
      fromAddress: config.sender.address,
      domain: config.sender.domain,
      recipientAddresses: configuredAddresses(config.definitions),
      recipientDomains: config.allowedRecipientDomains,
    });

    this.functions = new ReportFunctions(this, 'Functions', {
      storage: this.storage,
      secrets: this.secrets,
      mail: this.mail,
      settings: {
        definitions: config.definitions,
        allowedRecipientDomains: config.allowedRecipientDomains,
        verifikBaseUrl: config.verifikBaseUrl,
        verifikConcurrency: config.verifikConcurrency,
        linkTtlSeconds: config.linkTtlDays * 86_400,
        attachmentBudgetBytes: config.attachmentBudgetBytes,
        reportRetentionDays: config.reportRetentionDays,
        maxParallelReports: config.maxParallelReports,
      },
      sizing: config.functions,
      workerReservedConcurrency: config.workerReservedConcurrency,
      logRetention,
      removalPolicy,
      code: props.functionCode,
    });

    this.api = new ReportApi(this, 'Api', {
      handler: this.functions.api,
      throttlingRateLimit: config.api.throttlingRateLimit,
      throttlingBurstLimit: config.api.throttlingBurstLimit,
      downloadThrottling: {
        rateLimit: config.api.downloadThrottlingRateLimit,
        burstLimit: config.api.downloadThrottlingBurstLimit,
      },
      logRetention,
      removalPolicy,
    });
    // Only the scheduled function learns the API URL from its environment; the worker gets it
    // in its invocation payload, since worker → API → reports-api → worker would be a cycle.
    this.functions.scheduled.addEnvironment('PUBLIC_API_URL', this.api.url);
    // Only scheduled runs post to chat and webhook destinations: they alone read those secrets.
    grantDestinationSecrets(this.functions.scheduled, config.definitions);

    // The reports console: its users, its page, and its JWT-authorized routes on the same API.
    this.consoleUsers = new ConsoleUsers(this, 'ConsoleUsers', {
      allowedDomains: config.allowedRecipientDomains,
      logRetention,
      removalPolicy,
      code: props.functionCode?.('console-signin-guard'),
    });
    this.consoleHosting = new ConsoleHosting(this, 'ConsoleHosting', {
      apiUrl: this.api.url,
      userPoolId: this.consoleUsers.pool.userPoolId,
      userPoolClientId: this.consoleUsers.client.userPoolClientId,
      accessLogsBucket: this.storage.accessLogsBucket,
      removalPolicy,
    });
    this.consoleApi = new ConsoleApi(this, 'ConsoleApi', {
      api: this.api.api,
      handler: this.functions.api,
      users: this.consoleUsers,
      consoleOrigin: `https://${this.consoleHosting.distribution.distributionDomainName}`,
      verifikTokenSecret: this.secrets.verifikToken,
    });

    this.schedules = new ReportSchedules(this, 'Schedules', {
      groupName: `${this.stackName.slice(0, 40)}-schedules-${stackInstanceId(this)}`,
      definitions: config.definitions,
      target: this.functions.scheduled,
      retryAttempts: config.schedules.retryAttempts,
      maxEventAge: Duration.hours(config.schedules.maxEventAgeHours),
    });

    // Exactly once, or the owners know: SES's events settle unknown sends, the sweeper redoes
    // crashed and missed days and alerts owners.
    this.deliveryWatch = new DeliveryWatch(this, 'DeliveryWatch', {
      configurationSet: this.mail.configurationSet,
      sesEvents: this.functions.sesEvents,
      sweeper: this.functions.sweeper,
      deadLetterQueue: this.functions.failedRuns,
    });

    // The Verifik token renews itself (rotation every 7 days) and is watched daily; the owners
    // within the allowed domains get the watch's mail, everyone on the alarm topic its alarm.
    const owners = [...new Set(config.definitions.flatMap((d) => d.owners).map((a) => a.toLowerCase()))];
    const outside = new Set(disallowedRecipients(owners, config.allowedRecipientDomains));
    this.tokenRenewal = new TokenRenewal(this, 'TokenRenewal', {
      secret: this.secrets.verifikToken,
      mail: this.mail,
      verifikBaseUrl: config.verifikBaseUrl,
      allowedRecipientDomains: config.allowedRecipientDomains,
      alertRecipients: owners.filter((a) => !outside.has(a)),
      logRetention,
      removalPolicy,
      code: props.functionCode?.('token-rotation'),
    });

    this.alarms = new ReportAlarms(this, 'Alarms', {
      emails: alarmRecipients(config),
      removalPolicy,
      functions: [
        { label: 'Scheduled', fn: this.functions.scheduled },
        { label: 'Worker', fn: this.functions.worker },
        { label: 'Api', fn: this.functions.api },
        { label: 'Sweeper', fn: this.functions.sweeper },
        { label: 'SesEvents', fn: this.functions.sesEvents },
        { label: 'TokenRotation', fn: this.tokenRenewal.fn },
      ],
      queues: [
        {
          label: 'ScheduleDeadLetters',
          queue: this.schedules.deadLetterQueue,
          meaning: 'the Scheduler could not start a scheduled report; the message names the definition.',
        },
        {
          label: 'FailedRuns',
          queue: this.functions.failedRuns,
          meaning:
            'a report run failed after all Lambda retries; the message holds the request and the error.',
        },
      ],
      api: {
        serverErrors: this.api.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      },
    });

    this.tokenRenewal.alarmTo(this.alarms.topic);

    // Long reports (issue 13): the worker hands a report too long for one Lambda to this machine.
    this.fanOut = new ReportFanOut(this, 'FanOut', {
      worker: this.functions.worker,
      stateMachineName: `${this.stackName.slice(0, 40)}-fanout-${stackInstanceId(this)}`,
      alarmTopic: this.alarms.topic,
    });

    this.outputs(config);
  }

  private outputs(config: DeploymentConfig): void {
    const out = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    out('ApiUrl', this.api.url, 'Reports API base URL (IAM-signed requests; file links are HMAC-signed)');
    out('ReportsBucketName', this.storage.bucket.bucketName, 'S3 bucket holding reports under reports/');
    out(
      'AccessLogsBucketName',
      this.storage.accessLogsBucket.bucketName,
      'S3 bucket holding the reports bucket access logs',
    );
    out('StateTableName', this.storage.table.tableName, 'DynamoDB table with day claims and report status');
    out(
      'VerifikTokenSecretArn',
      this.secrets.verifikToken.secretArn,
      'Put the Verifik token here (put-secret-value)',
    );
    out('VerifikTokenSecretName', this.secrets.verifikToken.secretName, 'Name of the Verifik token secret');
    out(
      'LinkSigningSecretArn',
      this.secrets.linkSigningKey.secretArn,
      'Generated key that signs download links',
    );
    out('LinkSigningSecretName', this.secrets.linkSigningKey.secretName, 'Name of the link-signing secret');
    out(
      'ScheduledFunctionName',
      this.functions.scheduled.functionName,
      'Invoke with {"definition":"<name>"} to run a report now',
    );
    out('ReportsApiFunctionName', this.functions.api.functionName, 'The API function');
    out('WorkerFunctionName', this.functions.worker.functionName, 'On-demand report worker');
    out(
      'ApiCallerPolicyArn',
      this.api.callerPolicy.managedPolicyArn,
      'Attach to users/roles that may call the API',
    );
    out('ScheduledLogGroupName', this.functions.scheduled.logGroup.logGroupName, 'Logs of scheduled runs');
    out('WorkerLogGroupName', this.functions.worker.logGroup.logGroupName, 'Logs of on-demand runs');
    out('ApiLogGroupName', this.functions.api.logGroup.logGroupName, 'Logs of the API function');
    out(
      'TokenRotationFunctionName',
      this.tokenRenewal.fn.functionName,
      'Renews the Verifik token (rotation) and watches its expiry',
    );
    out(
      'TokenRotationLogGroupName',
      this.tokenRenewal.fn.logGroup.logGroupName,
      'Logs of the Verifik token renewals and the daily expiry watch',
    );
    out(
      'AlarmTopicArn',
      this.alarms.topic.topicArn,
      'SNS topic for alarms (owners confirm the e-mail subscription)',
    );
    out(
      'SesIdentity',
      this.mail.identity.emailIdentityName,
      'SES identity to verify before mail can be sent',
    );
    out(
      'SesConfigurationSet',
      this.mail.configurationSet.configurationSetName,
      'SES configuration set used for report mail',
    );
    out(
      'ConsoleUrl',
      `https://${this.consoleHosting.distribution.distributionDomainName}`,
      'The reports console (sign in with a user invited into ConsoleUserPoolId)',
    );
    out(
      'ConsoleUserPoolId',
      this.consoleUsers.pool.userPoolId,
      'Cognito user pool of the console: invite users here',
    );
    out('ConsoleUserPoolClientId', this.consoleUsers.client.userPoolClientId, 'The console app client');
    out('Definitions', config.definitions.map((d) => d.name).join(','), 'Scheduled report definitions');
    if (this.mail.isDomainIdentity) {
      this.mail.identity.dkimRecords.forEach((record, i) => {
        out(
          `DkimRecord${i + 1}`,
          `${record.name} CNAME ${record.value}`,
          'Add to DNS to verify the sender domain',
        );
      });
    }
  }
}
