/**
 * cdk-nag names a finding's resource by the logical id it will have in the template
 * (`AwsSolutions-IAM5[Resource::<LogicalId.Arn>/...]`), so a specific acknowledgement needs it.
 */
import { type CfnResource, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export function logicalIdOf(construct: IConstruct): string {
  const cfn = construct.node.defaultChild as CfnResource;
  return Stack.of(construct).resolve(cfn.logicalId) as string;
}
