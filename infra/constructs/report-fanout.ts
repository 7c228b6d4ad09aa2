/**
 * Long reports on Step Functions (issue 13): the state machine a report too long for one Lambda is
 * handed to by the on-demand worker (runs/on-demand.ts → runs/fanout.ts).
 *
 *   Slices (Map over $.slices, MaxConcurrency $.parallelSlices, each slice retried twice)
 *     → Assemble (the files in S3 by server-side copies, then the manifest)
 *     → Deliver (at most one mail, under the worker's claim)
 *   any failure after the retries → Fail report (clear the prefix, fail report and claim, tell the
 *   requester) → Failed; the failed-executions alarm tells the owners.
 *
 * The tasks run on the worker function itself (its handler dispatches `{ step }` events): the steps
 * need exactly its code, settings and permissions, and a second 3 GB function would only copy them.
 * An inline Map, not a Distributed one: a 93-day report makes at most ~100 slices of a few hundred
 * bytes each, well inside an inline Map's 256 KB state and 40 concurrent iterations; a Distributed
 * Map (child executions, an S3 ItemReader) pays only past thousands of items or 40 at once.
 * The machine's name is fixed so its ARN can be given to the worker without a reference to the
 * machine (which invokes the worker: a reference both ways would be a CloudFormation cycle).
 */
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { logicalIdOf } from './logical-id.js';

export interface ReportFanOutProps {
  /** The on-demand worker: it starts executions and runs every step. */
  readonly worker: lambda.Function;
  /** Fixed, unique per stack instance (see the header). */
  readonly stateMachineName: string;
  readonly alarmTopic: sns.ITopic;
}

/** Attempts per slice: the first and two retries ("fails twice, then succeeds" still completes). */
export const SLICE_RETRIES = 2;
/** A Lambda task may not outlive the function's own 15 minutes; a little more covers the invoke. */
const TASK_TIMEOUT = Duration.minutes(16);

export class ReportFanOut extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly stateMachineArn: string;
  readonly failedAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ReportFanOutProps) {
    super(scope, id);
    const { worker } = props;
    const execution = {
      reportId: sfn.JsonPath.stringAt('$.reportId'),
      runId: sfn.JsonPath.stringAt('$.runId'),
      baseUrl: sfn.JsonPath.stringAt('$.baseUrl'),
      request: sfn.JsonPath.objectAt('$.request'),
      slices: sfn.JsonPath.listAt('$.slices'),
      concurrencyPerSlice: sfn.JsonPath.numberAt('$.concurrencyPerSlice'),
      parallelSlices: sfn.JsonPath.numberAt('$.parallelSlices'),
    };
    const step = (name: string, stepName: string, extra: Record<string, unknown> = {}) =>
      new tasks.LambdaInvoke(this, name, {
        lambdaFunction: worker,
        payload: sfn.TaskInput.fromObject({ step: stepName, ...execution, ...extra }),
        payloadResponseOnly: true,
        taskTimeout: sfn.Timeout.duration(TASK_TIMEOUT),
        retryOnServiceExceptions: true,
        // The steps' answers are logged by the function; the state stays the execution's input.
        resultPath: sfn.JsonPath.DISCARD,
      });

    const slice = new tasks.LambdaInvoke(this, 'Slice', {
      lambdaFunction: worker,
      payload: sfn.TaskInput.fromJsonPathAt('$'),
      payloadResponseOnly: true,
      taskTimeout: sfn.Timeout.duration(TASK_TIMEOUT),
      retryOnServiceExceptions: true,
    });
    // A slice is idempotent (it rewrites its own parts), so any failure is retried, with backoff
    // so that a slice refused by Verifik (429) waits before it asks again.
    slice.addRetry({
      errors: [sfn.Errors.ALL],
      maxAttempts: SLICE_RETRIES,
      interval: Duration.seconds(20),
      backoffRate: 3,
    });

    const slices = new sfn.Map(this, 'Slices', {
      itemsPath: '$.slices',
      maxConcurrencyPath: '$.parallelSlices',
      itemSelector: {
        step: 'slice',
        'reportId.$': '$.reportId',
        'runId.$': '$.runId',
        'baseUrl.$': '$.baseUrl',
        'request.$': '$.request',
        'concurrencyPerSlice.$': '$.concurrencyPerSlice',
        'slice.$': '$$.Map.Item.Value',
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    slices.itemProcessor(slice);

    const assemble = step('Assemble', 'assemble');
    assemble.addRetry({ errors: ['States.Timeout'], maxAttempts: 1 });
    const deliver = step('Deliver', 'deliver');
    const fail = step('Fail report', 'fail', { error: sfn.JsonPath.objectAt('$.error') });
    const failed = new sfn.Fail(this, 'Report failed', {
      error: 'ReportFailed',
      causePath: sfn.JsonPath.format(
        'report {} failed; see its record and the execution history',
        sfn.JsonPath.stringAt('$.reportId'),
      ),
    });
    const onError = fail.next(failed);
    for (const state of [slices, assemble, deliver])
      state.addCatch(onError, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const definition = slices
      .next(new sfn.Pass(this, 'Slices done'))
      .next(assemble)
      .next(deliver)
      .next(new sfn.Succeed(this, 'Delivered'));

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      // The longest report: 100 slices, 16 at a time, each under 15 minutes, plus assembly.
      timeout: Duration.hours(3),
    });
    // No execution logging and no X-Ray: Step Functions keeps every execution's history (each
    // state's input, output and error) for 90 days, and each step logs in the worker's own group;
    // vended log delivery and X-Ray both need actions on "*", which this stack grants nowhere.
    Validations.of(this.stateMachine).acknowledge(
      {
        id: 'AwsSolutions-SF1',
        reason:
          'Execution history (90 days, every state input/output/error) plus the worker log group cover diagnosis; log delivery would need logs:* on "*".',
      },
      {
        id: 'AwsSolutions-SF2',
        reason:
          'Nothing in this stack is traced (no X-Ray anywhere); the execution history shows each step with its timing.',
      },
    );
    Validations.of(this.stateMachine.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(worker)}.Arn>:*]`,
      reason:
        'The Lambda task grant of the CDK names the worker and its versions; the machine invokes the one unqualified worker function only.',
    });
    this.stateMachineArn = Stack.of(this).formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: props.stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    // The worker hands long reports over: it may start executions of this machine, nothing else.
    worker.addEnvironment('FANOUT_STATE_MACHINE_ARN', this.stateMachineArn);
    worker.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'StartFanOut',
        actions: ['states:StartExecution'],
        resources: [this.stateMachineArn],
      }),
    );

    this.failedAlarm = new cloudwatch.Alarm(this, 'FailedAlarm', {
      alarmDescription:
        'A long (fanned-out) report failed after its slices’ retries: the report record and the execution history say why; its requester was told.',
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failedAlarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
  }
}
