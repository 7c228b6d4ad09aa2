/**
 * One EventBridge Scheduler schedule per report definition, firing in the definition's own time
 * zone (EventBridge *rules* only know UTC, which would shift every report by an hour twice a year).
 */
import { type Duration, RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ScheduledEventInput } from '../../functions/contract.js';
import type { Cadence, ReportDefinition } from '../../functions/settings/definitions.js';
import { deadLetterQueue } from './dead-letter-queue.js';

export interface ReportSchedulesProps {
  /**
   * The schedule group's name, at most 64 characters; the stack makes it unique per deployment
   * (stack-instance.ts), so a deploy after a destroy never meets a group left by the last one.
   */
  readonly groupName: string;
  readonly definitions: readonly ReportDefinition[];
  readonly target: lambda.IFunction;
  /** Scheduler-side retries when the invocation itself fails (throttled, service error). */
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
}

export class ReportSchedules extends Construct {
  readonly deadLetterQueue: sqs.Queue;
  readonly schedules: scheduler.Schedule[] = [];

  constructor(scope: Construct, id: string, props: ReportSchedulesProps) {
    super(scope, id);

    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetters', 'the report schedules');

    // One role for all schedules: invoke the scheduled-report function, nothing else.
    const role = new iam.Role(this, 'InvokeRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        // Confused-deputy guard: only schedules in this account may use the role.
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'EventBridge Scheduler: start scheduled report runs',
    });

    // Removed with the stack whatever `removalPolicy` says (the construct's default is to retain
    // it): it holds nothing but this stack's schedules, which CloudFormation deletes anyway.
    const group = new scheduler.ScheduleGroup(this, 'Group', {
      scheduleGroupName: props.groupName,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    for (const definition of props.definitions) {
      const { hour, minute, timeZone } = definition.schedule;
      // Typed by the handler's own event schema, so the two cannot drift apart.
      const input: ScheduledEventInput = {
        definition: definition.name,
        // A retried invocation reports the period of this fire, not of the moment it runs.
        scheduledTime: scheduler.ContextAttribute.scheduledTime,
      };
      const schedule = new scheduler.Schedule(this, `Schedule-${definition.name}`, {
        description: `${cadenceLabel(definition.cadence)} report "${definition.name}" at ${pad(hour)}:${pad(minute)} ${timeZone}`,
        scheduleGroup: group,
        schedule: scheduler.ScheduleExpression.cron({
          minute: String(minute),
          hour: String(hour),
          ...cadenceDays(definition.cadence),
          timeZone: TimeZone.of(timeZone),
        }),
        target: new InvokeFunctionOnly(props.target, {
          role,
          input: scheduler.ScheduleTargetInput.fromObject(input),
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: props.retryAttempts,
          maxEventAge: props.maxEventAge,
        }),
      });
      this.schedules.push(schedule);
    }
  }
}

/**
 * LambdaInvoke grants the function *and all its versions* (`<arn>:*`). Schedules invoke the
 * unqualified function only, so the role gets exactly that ARN.
 */
class InvokeFunctionOnly extends targets.LambdaInvoke {
  private readonly fn: lambda.IFunction;
  constructor(fn: lambda.IFunction, props: targets.ScheduleTargetBaseProps) {
    super(fn, props);
    this.fn = fn;
  }

  protected override addTargetActionToRole(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'StartScheduledReport',
        actions: ['lambda:InvokeFunction'],
        resources: [this.fn.functionArn],
      }),
    );
  }
}

const WEEKDAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;

/** The run days of a cadence as cron fields (Scheduler wants `?` in the other day field; CDK sets it). */
export function cadenceDays(cadence: Cadence): { weekDay?: string; day?: string } {
  switch (cadence.kind) {
    case 'daily':
      return {};
    case 'weekly':
      return { weekDay: WEEKDAYS[cadence.weekday - 1] as string };
    case 'monthly':
      return { day: String(cadence.day) };
    case 'weekdays':
      return { weekDay: 'MON-FRI' };
  }
}

function cadenceLabel(cadence: Cadence): string {
  switch (cadence.kind) {
    case 'daily':
      return 'Daily';
    case 'weekly':
      return `Weekly (${WEEKDAYS[cadence.weekday - 1]})`;
    case 'monthly':
      return `Monthly (day ${cadence.day})`;
    case 'weekdays':
      return 'Weekday';
  }
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
