/**
 * The HTTP API in front of the reports-api function. Every route needs SigV4 (IAM) except the
 * download route, whose HMAC signature in the query string is the credential (it is the link
 * mailed to people who have no AWS identity). There is no `$default` route: anything not listed
 * here gets API Gateway's 404 without reaching the function.
 */
import { type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_ROUTES, type ApiRoute } from '../../functions/contract.js';
import { logicalIdOf } from './logical-id.js';

export interface ReportApiProps {
  readonly handler: lambda.IFunction;
  readonly throttlingRateLimit: number;
  readonly throttlingBurstLimit: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

export class ReportApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;
  /** Attach to the users or roles that may request and read reports (SigV4 callers). */
  readonly callerPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: ReportApiProps) {
    super(scope, id);

    this.api = new apigwv2.HttpApi(this, 'Http', {
      description: 'Verifik validation reports: request, list and download reports',
      // IAM on every route unless a route opts out explicitly (only the file route does).
      defaultAuthorizer: new HttpIamAuthorizer(),
      // The stage is created below, with throttling and access logs the default stage lacks.
      createDefaultStage: false,
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttlingRateLimit, burstLimit: props.throttlingBurstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        // `path`, never the raw query string: the file route's query carries its signature.
        format: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            caller: '$context.identity.userArn',
            method: '$context.httpMethod',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            bytes: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });

    const integration = new HttpLambdaIntegration('ReportsApi', props.handler);
    const route = (r: ApiRoute, authorizer?: apigwv2.IHttpRouteAuthorizer) =>
      this.api.addRoutes({ path: r.path, methods: [apigwv2.HttpMethod[r.method]], integration, authorizer });
    route(API_ROUTES.createReport);
    route(API_ROUTES.listReports);
    route(API_ROUTES.reportStatus);
    const [fileRoute] = route(API_ROUTES.download, new apigwv2.HttpNoneAuthorizer());
    this.callerPolicy = new iam.ManagedPolicy(this, 'CallerPolicy', {
      description: 'Call the Verifik reports API: request reports, list them, read their status',
      statements: [
        new iam.PolicyStatement({
          sid: 'CallReportRoutes',
          actions: ['execute-api:Invoke'],
          resources: [
            this.api.arnForExecuteApi('POST', '/reports', this.stage.stageName),
            this.api.arnForExecuteApi('GET', '/reports', this.stage.stageName),
            this.api.arnForExecuteApi('GET', '/reports/*', this.stage.stageName),
          ],
        }),
      ],
    });
    Validations.of(this.callerPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${logicalIdOf(this.api)}>/$default/GET/reports/*]`,
      reason:
        'GET /reports/{id} takes a report id generated per request, so the route is granted by its path pattern; it covers only the read routes under /reports/.',
    });

    Validations.of(fileRoute!).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Download links are mailed to people without AWS identities; each request is authorised by an HMAC-SHA256 signature over id, name and expiry, checked in constant time by the function before it redirects.',
    });
  }

  /**
   * Base URL for links, without a trailing slash (`https://<id>.execute-api.<region>.amazonaws.com`),
   * the same form the API function derives from its own requests. The `$default` stage serves
   * the root, so no stage segment.
   */
  get url(): string {
    return this.api.apiEndpoint;
  }
}
