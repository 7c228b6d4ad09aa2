/**
 * The console's routes on the reports HTTP API: `GET` and `POST /console/{proxy+}` to the same
 * function, with a Cognito JWT authorizer (an HTTP API route has one authorizer, so the machine
 * callers keep their IAM routes and the console gets its own prefix). The authorizer accepts only
 * access tokens of the console's app client (signature, issuer, expiry, client id); the function
 * then checks the caller's group on every route (functions/api/console-access.ts).
 *
 * CORS allows the console's origin only, and only what the console sends. The function may ask
 * Cognito whether an admin has MFA, and read the Verifik token secret's metadata (not its value)
 * for the health strip.
 */
import { Duration } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ConsoleUsers } from './console-users.js';

/** The path prefix of the console's routes (functions/api/console-access.ts CONSOLE_PREFIX). */
export const CONSOLE_ROUTE_PREFIX = '/console';

export interface ConsoleApiProps {
  readonly api: apigwv2.HttpApi;
  readonly handler: lambda.Function;
  readonly users: ConsoleUsers;
  /** `https://<distribution domain>`: the only origin CORS allows. */
  readonly consoleOrigin: string;
  readonly verifikTokenSecret: secretsmanager.ISecret;
}

export class ConsoleApi extends Construct {
  readonly routes: apigwv2.HttpRoute[];

  constructor(scope: Construct, id: string, props: ConsoleApiProps) {
    super(scope, id);
    const authorizer = new HttpUserPoolAuthorizer('ConsoleUsers', props.users.pool, {
      userPoolClients: [props.users.client],
      identitySource: ['$request.header.Authorization'],
    });
    this.routes = props.api.addRoutes({
      path: `${CONSOLE_ROUTE_PREFIX}/{proxy+}`,
      methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('Console', props.handler),
      authorizer,
    });

    // API-wide in API Gateway (HTTP APIs have one CORS configuration): the IAM routes are never
    // called from browsers, so allowing the console's origin there too opens nothing.
    (props.api.node.defaultChild as apigwv2.CfnApi).corsConfiguration = {
      allowOrigins: [props.consoleOrigin],
      allowMethods: ['GET', 'POST'],
      allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
      maxAge: Duration.minutes(10).toSeconds(),
    };

    props.users.grantMfaCheck(props.handler);
    props.handler.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ConsoleTokenHealth',
        actions: ['secretsmanager:DescribeSecret'],
        resources: [props.verifikTokenSecret.secretArn],
      }),
    );
  }
}
