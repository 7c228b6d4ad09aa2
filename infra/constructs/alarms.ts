/**
 * Alarms for the owners: a report that failed, a run that could not even start, a function
 * close to its timeout, throttling, and API server errors, all to one encrypted SNS topic.
 */
import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Alarm when a run's longest duration passes this share of its timeout. */
export const DURATION_ALARM_RATIO = 0.8;

export interface WatchedFunction {
  /** Short name used in alarm ids and descriptions. */
  readonly label: string;
  /** A function built here (not imported), so its timeout is known. */
  readonly fn: lambda.Function;
}

export interface WatchedQueue {
  readonly label: string;
  readonly queue: sqs.IQueue;
  /** What a message in the queue means, for the alarm description. */
  readonly meaning: string;
}

export interface ReportAlarmsProps {
  readonly emails: readonly string[];
  /** For the topic's KMS key (a retained key keeps costing after the stack is gone). */
  readonly removalPolicy: RemovalPolicy;
  readonly functions: readonly WatchedFunction[];
  readonly queues: readonly WatchedQueue[];
  /** Optional extra metric alarms (e.g. API 5xx), created as given. */
  readonly api?: { readonly serverErrors: cloudwatch.IMetric };
}

export class ReportAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly action: actions.SnsAction;

  constructor(scope: Construct, id: string, props: ReportAlarmsProps) {
    super(scope, id);

    // A customer managed key: CloudWatch cannot publish to a topic encrypted with the AWS
    // managed alias/aws/sns key, because that key's policy cannot be changed to let it in.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the Verifik reports alarm topic',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        // In a key policy "*" means this key.
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Verifik reports alarms',
      masterKey: key,
      enforceSSL: true,
    });
    for (const email of props.emails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    this.action = new actions.SnsAction(this.topic);

    for (const { label, fn } of props.functions) {
      // Lambda's own default when a function sets no timeout.
      const timeout = fn.timeout ?? Duration.seconds(3);
      this.add(`${label}Errors`, {
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        alarmDescription: `${label}: the function returned an error (a report may not have been delivered). See its log group.`,
      });
      this.add(`${label}Throttles`, {
        metric: fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        alarmDescription: `${label}: invocations were throttled (account concurrency exhausted or reserved concurrency reached).`,
      });
      this.add(`${label}NearTimeout`, {
        metric: fn.metricDuration({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: Math.floor(timeout.toMilliseconds() * DURATION_ALARM_RATIO),
        alarmDescription: `${label}: a run took over ${DURATION_ALARM_RATIO * 100}% of its ${timeout.toSeconds()} s timeout; raise memory or timeout before runs start failing.`,
      });
    }

    for (const { label, queue, meaning } of props.queues) {
      this.add(`${label}Messages`, {
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: 1,
        alarmDescription: `${label}: ${meaning}`,
      });
    }

    if (props.api) {
      this.add('ApiServerErrors', {
        metric: props.api.serverErrors,
        threshold: 1,
        alarmDescription: 'Reports API answered with 5xx errors.',
      });
    }
  }

  private add(
    id: string,
    opts: { metric: cloudwatch.IMetric; threshold: number; alarmDescription: string },
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric: opts.metric,
      threshold: opts.threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data means nothing ran (or nothing failed): not an alarm.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: opts.alarmDescription,
    });
    alarm.addAlarmAction(this.action);
    this.alarms.push(alarm);
  }
}
