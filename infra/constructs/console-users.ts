/**
 * Who may use the reports console: a Cognito user pool owned by the stack.
 *
 * - Invited only: self sign-up is off; an admin creates each user (AdminCreateUser mails a
 *   temporary password; the first sign-in sets a new one).
 * - Allowed domains only: a PreSignUp and PreAuthentication trigger
 *   (functions/handlers/console-signin-guard.ts) refuses e-mail addresses outside the allowed
 *   recipient domains, at creation and at every sign-in.
 * - MFA: TOTP (authenticator apps; no SMS, so no SMS costs or SIM-swap exposure) is optional in the
 *   pool and required for admins by the API: Cognito cannot require MFA for one group, so the
 *   console's admin routes ask Cognito (AdminGetUser) whether the caller has TOTP enabled and
 *   refuse otherwise (functions/api/console.ts). Device remembering stays off, so an account with
 *   TOTP enabled is challenged at every sign-in.
 * - Sessions: access tokens live 15 minutes (the console refreshes them), refresh tokens 8 hours
 *   (a working day; then sign in again), revocable (sign-out revokes them). Existence errors are
 *   hidden: a wrong address and a wrong password read the same.
 * - Groups: viewers (see and download), requesters (also ask for reports), admins (also re-send,
 *   backfill, pause and resume). The API checks them on every console route.
 */
import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LAMBDA_PROCESS_ENV } from '../../functions/contract.js';
import { BUNDLING, handlerEntry } from './report-functions.js';

/** The groups the API knows (functions/api/console-access.ts CONSOLE_GROUPS), strongest first. */
export const CONSOLE_GROUP_NAMES = ['admins', 'requesters', 'viewers'] as const;

export interface ConsoleUsersProps {
  /** Only addresses in these domains may be created or sign in. */
  readonly allowedDomains: readonly string[];
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** Prebuilt code for the sign-in guard instead of esbuild bundling (template tests). */
  readonly code?: lambda.Code;
}

export class ConsoleUsers extends Construct {
  readonly pool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly guard: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: ConsoleUsersProps) {
    super(scope, id);

    const logGroup = new logs.LogGroup(this, 'GuardLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const role = new iam.Role(this, 'GuardRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Execution role of the console sign-in guard (writes its own logs only)',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.guard = new nodejs.NodejsFunction(this, 'Guard', {
      description: 'Verifik reports: console sign-in guard (allowed e-mail domains only)',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 128,
      timeout: Duration.seconds(5),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { ALLOWED_RECIPIENT_DOMAINS: props.allowedDomains.join(','), ...LAMBDA_PROCESS_ENV },
      ...(props.code
        ? { code: props.code, handler: 'index.handler' }
        : { entry: handlerEntry('console-signin-guard'), handler: 'handler', bundling: BUNDLING }),
    });

    this.pool = new cognito.UserPool(this, 'Pool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: false } },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { sms: false, otp: true },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      userInvitation: {
        emailSubject: 'Your Verifik reports console account',
        emailBody:
          'You can now sign in to the Verifik reports console as {username} with the temporary password {####} (valid 3 days). You will choose your own password at the first sign-in.',
      },
      lambdaTriggers: { preSignUp: this.guard, preAuthentication: this.guard },
      removalPolicy: props.removalPolicy,
    });

    this.client = this.pool.addClient('Console', {
      userPoolClientName: 'reports-console',
      // A single page cannot keep a secret.
      generateSecret: false,
      authFlows: { userPassword: true, userSrp: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.minutes(15),
      idTokenValidity: Duration.minutes(15),
      refreshTokenValidity: Duration.hours(8),
      enableTokenRevocation: true,
    });

    CONSOLE_GROUP_NAMES.forEach((name, i) => {
      new cognito.CfnUserPoolGroup(this, `Group-${name}`, {
        userPoolId: this.pool.userPoolId,
        groupName: name,
        precedence: i + 1,
        description: {
          admins: 'See, download and ask for reports; re-send, backfill, pause and resume (MFA required)',
          requesters: 'See and download reports; ask for on-demand reports',
          viewers: 'See and download reports',
        }[name],
      });
    });

    Validations.of(this.pool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason:
          'Cognito requires MFA pool-wide or not at all; it is optional here and required for admins by the API, which refuses admin actions from accounts without TOTP (functions/api/console.ts).',
      },
      {
        id: 'AwsSolutions-COG8',
        reason:
          'Threat protection needs the Plus feature plan (billed per monthly user); the pool is invite-only, limited to the allowed domains by a trigger, and admins have TOTP.',
      },
    );
  }

  /** The API may ask whether a user has MFA (admin routes) and nothing else. */
  grantMfaCheck(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ConsoleMfaCheck',
        actions: ['cognito-idp:AdminGetUser'],
        resources: [this.pool.userPoolArn],
      }),
    );
    fn.addEnvironment('CONSOLE_USER_POOL_ID', this.pool.userPoolId);
  }
}
