/**
 * Read access to the chat and webhook destinations' secrets (functions/settings/destinations.ts):
 * exactly the secrets the definitions name, nothing broader. The operator creates them (their
 * values are webhook URLs, credentials that never enter the template); the grant is by name, as
 * Secrets Manager ARNs end in `-` and six random characters: `secret:<name>-??????` matches that
 * secret only (`?` is one character, so `<name>-other-XXXXXX` is out of reach).
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { ReportDefinition } from '../../functions/settings/definitions.js';

/** The secret names the definitions' destinations read, each once, sorted (a stable template). */
export function destinationSecretNames(
  definitions: readonly Pick<ReportDefinition, 'destinations'>[],
): string[] {
  return [...new Set(definitions.flatMap((d) => d.destinations.map((x) => x.secret)))].sort();
}

/** Lets `fn` read those secrets (GetSecretValue only); adds nothing when no definition has destinations. */
export function grantDestinationSecrets(
  fn: lambda.IFunction,
  definitions: readonly Pick<ReportDefinition, 'destinations'>[],
): void {
  const names = destinationSecretNames(definitions);
  if (names.length === 0) return;
  const stack = Stack.of(fn);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'ReadDestinationSecrets',
      actions: ['secretsmanager:GetSecretValue'],
      resources: names.map((name) =>
        stack.formatArn({
          service: 'secretsmanager',
          resource: 'secret',
          resourceName: `${name}-??????`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ),
    }),
  );
}
