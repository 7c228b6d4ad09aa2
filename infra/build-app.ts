/**
 * Builds the CDK app: feature flags, configuration from context, the stack, cdk-nag. Shared by
 * `infra/app.ts` (what `cdk synth` runs) and the unit tests, so both see the same app.
 */
import { App, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { configFromContext, type DeploymentConfig } from './config.js';
import type { HandlerName } from './constructs/report-functions.js';
import { FEATURE_FLAGS } from './feature-flags.js';
import { ReportingStack } from './reporting-stack.js';

export interface BuildOptions {
  /** Extra context (tests); `cdk synth` passes cdk.json and `-c` values through the environment. */
  readonly context?: Record<string, unknown>;
  readonly functionCode?: (name: HandlerName) => lambda.Code;
  /** Register the AWS Solutions checks (synthesis fails on any unacknowledged finding). */
  readonly nag?: boolean;
  readonly outdir?: string;
}

export interface BuiltApp {
  readonly app: App;
  readonly stack: ReportingStack;
  readonly config: DeploymentConfig;
}

export function buildApp(options: BuildOptions = {}): BuiltApp {
  const app = new App({ context: { ...FEATURE_FLAGS, ...options.context }, outdir: options.outdir });
  const config = configFromContext(app.node);
  const stack = new ReportingStack(app, config.stackName, {
    config,
    // Environment-agnostic unless the configuration pins it: `cdk synth` in CI (no credentials)
    // and `cdk deploy` (the caller's account and region) then produce the same template.
    env: config.env.account || config.env.region ? config.env : undefined,
    description: 'Verifik validation reports: scheduled and on-demand reports in S3, mailed through SES',
    functionCode: options.functionCode,
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, config };
}
