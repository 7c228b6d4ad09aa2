/**
 * The fan-out state machine (issue 13) as synthesised: its ASL passes asl-validator, and says what
 * the README says: a Map over the plan's slices at the plan's parallelism, each slice retried
 * twice, then assembly, then the one delivery, any failure caught into the fail step and a Fail
 * state; the worker may start this machine only, and knows its ARN; the failed-executions alarm
 * goes to the owners' topic; cdk-nag finds nothing (the whole stack is checked by infra-nag).
 */

import { createRequire } from 'node:module';
import { Template } from 'aws-cdk-lib/assertions';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/build-app.js';
import { SLICE_RETRIES } from '../../infra/constructs/report-fanout.js';

// biome-ignore lint/suspicious/noExplicitAny: the template and the ASL are read as untyped JSON.
type Json = Record<string, any>;
/** asl-validator ships no type declarations: its one function, typed here. */
const aslValidator = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText(separator?: string): string;
};
let template: Template;
let resources: Record<string, { Type: string; Properties: Json }>;
let asl: Json;

/** The definition string with every CloudFormation token replaced by a plausible literal. */
function resolveDefinition(def: unknown): string {
  if (typeof def === 'string') return def;
  const join = (def as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return join[1]
    .map((p) => (typeof p === 'string' ? p : 'arn:aws:lambda:eu-west-1:123456789012:function:worker'))
    .join(join[0]);
}

beforeAll(() => {
  const { stack } = buildApp({
    nag: false,
    functionCode: () => Code.fromInline('exports.handler = async () => ({})'),
  });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
  const machines = Object.values(resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  expect(machines).toHaveLength(1);
  asl = JSON.parse(resolveDefinition(machines[0]?.Properties.DefinitionString));
});

describe('the fan-out state machine', () => {
  it('is valid ASL (asl-validator)', () => {
    const { isValid, errorsText } = aslValidator(asl);
    expect(errorsText('\n')).toBe('');
    expect(isValid).toBe(true);
  });

  it('maps the slices at the plan’s parallelism, each retried twice, then assembles, then delivers', () => {
    expect(asl.StartAt).toBe('Slices');
    const map = asl.States.Slices;
    expect(map.Type).toBe('Map');
    expect(map.ItemsPath).toBe('$.slices');
    expect(map.MaxConcurrencyPath).toBe('$.parallelSlices');
    expect(map.ItemSelector).toMatchObject({
      step: 'slice',
      'slice.$': '$$.Map.Item.Value',
      'runId.$': '$.runId',
    });
    const slice = map.ItemProcessor.States.Slice;
    // The worker is invoked directly (payloadResponseOnly): its ARN, here the token's stand-in.
    expect(slice.Resource).toBe('arn:aws:lambda:eu-west-1:123456789012:function:worker');
    expect(slice.Retry).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: SLICE_RETRIES }),
      ]),
    );
    expect(map.Next).toBe('Slices done');
    expect(asl.States['Slices done'].Next).toBe('Assemble');
    expect(asl.States.Assemble.Parameters.step).toBe('assemble');
    expect(asl.States.Assemble.Next).toBe('Deliver');
    expect(asl.States.Deliver.Parameters.step).toBe('deliver');
    expect(asl.States.Deliver.Next).toBe('Delivered');
  });

  it('catches any failure of the slices, the assembly or the delivery into the fail step, then fails', () => {
    for (const name of ['Slices', 'Assemble', 'Deliver']) {
      expect(asl.States[name].Catch, name).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Fail report' },
      ]);
    }
    expect(asl.States['Fail report'].Parameters).toMatchObject({
      step: 'fail',
      'error.$': '$.error',
    });
    expect(asl.States['Fail report'].Next).toBe('Report failed');
    expect(asl.States['Report failed'].Type).toBe('Fail');
  });

  it('has a fixed name (the worker knows its ARN without a reference back) and no wildcard log or X-Ray grant', () => {
    const sm = Object.values(resources).find((r) => r.Type === 'AWS::StepFunctions::StateMachine');
    expect(sm?.Properties.TracingConfiguration).toBeUndefined();
    expect(sm?.Properties.LoggingConfiguration).toBeUndefined();
    expect(JSON.stringify(sm?.Properties.StateMachineName)).toMatch(/-fanout-/);
  });

  it('lets the worker start this machine and nothing else, and tells it the ARN', () => {
    const worker = Object.entries(resources).find(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('FunctionsWorker'),
    );
    const env = worker?.[1].Properties.Environment.Variables;
    expect(env.FANOUT_STATE_MACHINE_ARN).toBeDefined();
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
    const start = statements.filter((s) => [s.Action].flat().includes('states:StartExecution'));
    expect(start).toHaveLength(1);
    expect(start[0]?.Sid).toBe('StartFanOut');
    expect(start[0]?.Resource).toEqual(env.FANOUT_STATE_MACHINE_ARN);
  });

  it('alarms the owners’ topic when an execution fails', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
      Threshold: 1,
    });
  });
});
