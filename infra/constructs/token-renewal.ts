/**
 * The Verifik token renews itself: a Secrets Manager rotation of the token secret, run by the
 * token-rotation function (functions/handlers/token-rotation.ts) every ROTATION_INTERVAL_DAYS,
 * a daily watch of the days the current token has left (an EventBridge rule → the same
 * function), and an alarm to the owners' topic when ALERT_DAYS or fewer are left.
 *
 * Why every 7 days: a token lasts 30 days and a renewal gives it 30 more, so in normal running
 * the token never has fewer than 23 days left. A failed renewal is tried again at the next
 * rotation, or at once with `rotate-secret` by hand; the alert at 7 days left
 * comes only after three rotations in a row have failed (days 7, 14, 21 of the token's life),
 * so one bad day at Verifik never pages anyone, and the owners still have 7 days to act. More
 * often would mint tokens for nothing (each is valid for 30 days, none is revoked); every 14
 * days would leave a single retry before the alert.
 *
 * The rotation schedule is the L1 resource, not `secret.addRotationSchedule`: the L2 also grants
 * `secretsmanager:GetRandomPassword` on `*` and adds a deny-delete resource policy, neither of
 * which this function needs. Here the function may read and write that one secret, send mail
 * as the configured sender, and write its own log group; Secrets Manager may invoke it for that
 * secret only.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { LAMBDA_PROCESS_ENV, METRICS_NAMESPACE } from '../../functions/contract.js';
import { BUNDLING, handlerEntry, LAMBDA_NODE_OPTIONS } from './report-functions.js';
import type { ReportMail } from './report-mail.js';

/** Days between renewals (see above). */
export const ROTATION_INTERVAL_DAYS = 7;
/** The owners are told (mail and alarm) when the current token has this many days or fewer left. */
export const ALERT_DAYS = 7;
/** Lifetime asked of each renewed token, in Verifik's unit: months (1 ≈ the 30 days of a login). */
export const RENEWAL_MONTHS = 1;
/** The watch's metric; functions/runs/token-watch.ts publishes it (a unit test keeps the two equal). */
export const TOKEN_DAYS_LEFT_METRIC = 'VerifikTokenDaysLeft';
/** The function's service name: its logger, its metrics' `service` dimension, the alarm's too. */
export const TOKEN_SERVICE_NAME = 'token-rotation';
/** What the daily schedule sends (the handler's WATCH_EVENT). */
export const WATCH_INPUT = { action: 'watch' } as const;

export interface TokenRenewalProps {
  readonly secret: secretsmanager.Secret;
  readonly mail: ReportMail;
  readonly verifikBaseUrl: string;
  readonly allowedRecipientDomains: readonly string[];
  /** Who the watch mails (the definitions' owners within the allowed domains). */
  readonly alertRecipients: readonly string[];
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** Prebuilt code instead of esbuild bundling (template tests). */
  readonly code?: lambda.Code;
}

export class TokenRenewal extends Construct {
  readonly fn: nodejs.NodejsFunction;
  readonly rotation: secretsmanager.CfnRotationSchedule;
  readonly watch: events.Rule;
  readonly daysLeft: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: TokenRenewalProps) {
    super(scope, id);
    const { secret, mail } = props;

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Execution role of the token-rotation function',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    const secretAccess = new iam.Policy(this, 'RotateTokenSecret', {
      statements: [
        new iam.PolicyStatement({
          sid: 'RotateVerifikToken',
          // The four steps: read the versions and AWSCURRENT, put AWSPENDING, move the labels.
          actions: [
            'secretsmanager:DescribeSecret',
            'secretsmanager:GetSecretValue',
            'secretsmanager:PutSecretValue',
            'secretsmanager:UpdateSecretVersionStage',
          ],
          resources: [secret.secretArn],
        }),
      ],
    });
    role.attachInlinePolicy(secretAccess);
    mail.grantSend(role);

    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      description: 'Verifik reports: token-rotation (renews the Verifik token, watches its expiry)',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      // Three HTTP calls at most (renew, or list one record) and a mail: small and short.
      memorySize: 256,
      timeout: Duration.seconds(60),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.DISABLED,
      environment: {
        VERIFIK_TOKEN_SECRET_ID: secret.secretArn,
        VERIFIK_BASE_URL: props.verifikBaseUrl,
        TOKEN_RENEWAL_MONTHS: String(RENEWAL_MONTHS),
        TOKEN_ALERT_DAYS: String(ALERT_DAYS),
        TOKEN_ALERT_RECIPIENTS: props.alertRecipients.join(','),
        MAIL_FROM: mail.fromAddress,
        SES_CONFIGURATION_SET: mail.configurationSet.configurationSetName,
        ALLOWED_RECIPIENT_DOMAINS: props.allowedRecipientDomains.join(','),
        POWERTOOLS_SERVICE_NAME: TOKEN_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
        ...LAMBDA_PROCESS_ENV,
      },
      ...(props.code
        ? { code: props.code, handler: 'index.handler' }
        : { entry: handlerEntry('token-rotation'), handler: 'handler', bundling: BUNDLING }),
    });

    // Secrets Manager invokes the function for this secret only (confused-deputy guard).
    const invokedBySecretsManager = new lambda.CfnPermission(this, 'InvokedBySecretsManager', {
      action: 'lambda:InvokeFunction',
      functionName: this.fn.functionName,
      principal: 'secretsmanager.amazonaws.com',
      sourceArn: secret.secretArn,
    });

    this.rotation = new secretsmanager.CfnRotationSchedule(this, 'Rotation', {
      secretId: secret.secretArn,
      rotationLambdaArn: this.fn.functionArn,
      rotationRules: { scheduleExpression: `rate(${ROTATION_INTERVAL_DAYS} days)` },
      // Not at deploy time: the secret still holds the placeholder until the operator puts the
      // first token. Secrets Manager then only runs testSecret on a copy of AWSCURRENT, which
      // the function accepts for the placeholder; the first renewal comes 7 days later.
      rotateImmediatelyOnUpdate: false,
    });
    // Secrets Manager tests the function when the schedule is created: it must be callable and
    // allowed to read the secret by then.
    this.rotation.node.addDependency(invokedBySecretsManager);
    this.rotation.node.addDependency(secretAccess);

    // The daily watch, 08:00 UTC. An EventBridge rule, not a Scheduler schedule: the watch has
    // no time zone to respect, and the rule needs no role (a resource policy lets it invoke).
    this.watch = new events.Rule(this, 'WatchRule', {
      description: 'Daily check of the days the Verifik token has left',
      schedule: events.Schedule.cron({ minute: '0', hour: '8' }),
      targets: [
        new eventTargets.LambdaFunction(this.fn, {
          event: events.RuleTargetInput.fromObject(WATCH_INPUT),
          // A missed watch is caught up by the next day's: retries, no dead-letter queue.
          retryAttempts: 2,
          maxEventAge: Duration.hours(6),
        }),
      ],
    });

    this.daysLeft = new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: TOKEN_DAYS_LEFT_METRIC,
      dimensionsMap: { service: TOKEN_SERVICE_NAME },
      statistic: 'Minimum',
      period: Duration.days(1),
    });
  }

  /** The alarm to the owners: the current token has ALERT_DAYS or fewer left (renewals failing). */
  alarmTo(topic: sns.ITopic): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, 'DaysLeftAlarm', {
      metric: this.daysLeft,
      threshold: ALERT_DAYS,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
      // The watch publishes once a day; no value means it did not run (its errors alarm) or no
      // token was put yet.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `The Verifik token has ${ALERT_DAYS} days or fewer left: its automatic renewal (every ${ROTATION_INTERVAL_DAYS} days) has been failing. Renew it now with "aws secretsmanager rotate-secret --secret-id <VerifikTokenSecretName>", or put a new token (README "Verifik token renewal").`,
    });
    alarm.addAlarmAction(new actions.SnsAction(topic));
    return alarm;
  }
}
