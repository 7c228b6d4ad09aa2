/**
 * What tells one deployment of the stack from the next one under the same name: the first 8 hex
 * digits of the stack id's UUID (`arn:…:stack/<name>/<uuid>`), known only at deploy time. Names
 * built with it (the secrets, the schedule group) never meet the names a destroyed or retained
 * earlier deployment left behind.
 */
import { Fn, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export function stackInstanceId(scope: IConstruct): string {
  return Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Stack.of(scope).stackId))));
}
