/** Assertions on a synthesised stack shared by the infra tests. */
import type { Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';

/** The resource types that hold reports, state, secrets or history: what `removalPolicy` governs. */
export const STATEFUL_TYPES = [
  'AWS::S3::Bucket',
  'AWS::DynamoDB::Table',
  'AWS::SecretsManager::Secret',
  'AWS::Logs::LogGroup',
  'AWS::KMS::Key',
] as const;

/** Every stateful resource has `policy`; not vacuous: each type must be present. */
export function expectDeletionPolicy(template: Template, policy: 'Retain' | 'Delete'): void {
  for (const type of STATEFUL_TYPES) {
    const policies = Object.values(template.findResources(type)).map(
      (r) => (r as { DeletionPolicy?: string }).DeletionPolicy,
    );
    expect(policies.length, type).toBeGreaterThan(0);
    expect(policies, type).toEqual(policies.map(() => policy));
  }
}
