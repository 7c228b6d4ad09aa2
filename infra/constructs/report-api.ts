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
  /** The signed download route's own throttle, apart from the IAM routes' stage default. */
  readonly downloadThrottling: { rateLimit: number; burstLimit: number };
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

    // HTTP API route settings override the stage default for that route: link clicks get their
    // own budget, so a burst of API calls cannot get real downloads refused with 429 (or the reverse).
    const downloadRouteKey = `${API_ROUTES.download.method} ${API_ROUTES.download.path}`;
    (this.stage.node.defaultChild as apigwv2.CfnStage).routeSettings = {
      // A free-form JSON map in CloudFormation, so its keys are written as the template spells them.
      [downloadRouteKey]: {
        ThrottlingRateLimit: props.downloadThrottling.rateLimit,
        ThrottlingBurstLimit: props.downloadThrottling.burstLimit,
      },
    };

    const integration = new HttpLambdaIntegration('ReportsApi', props.handler);
    const route = (r: ApiRoute, authorizer?: apigwv2.IHttpRouteAuthorizer) =>
      this.api.addRoutes({ path: r.path, methods: [apigwv2.HttpMethod[r.method]], integration, authorizer });
    // Every route of the contract, so a route the function serves is never API Gateway's 404.
    const iamRoutes = Object.values(API_ROUTES).filter((r) => r !== API_ROUTES.download);
    for (const r of iamRoutes) route(r);
    const [fileRoute] = route(API_ROUTES.download, new apigwv2.HttpNoneAuthorizer());

    // What a caller may invoke: each IAM route, its `{param}` segments as `*`. Execute-api ARNs
    // cannot name one path parameter, so `GET /reports/*` also covers the (anonymous) file route.
    const grants = [
      ...new Map(
        iamRoutes.map((r) => {
          const path = r.path.replace(/\{[^}]+\}/g, '*');
          return [`${r.method} ${path}`, { method: r.method, path }] as const;
        }),
      ).values(),
    ];
    this.callerPolicy = new iam.ManagedPolicy(this, 'CallerPolicy', {
      description:
        'Call the Verifik reports API: request, list, read and re-send reports; list, backfill, pause and resume definitions',
      statements: [
        new iam.PolicyStatement({
          sid: 'CallReportRoutes',
          actions: ['execute-api:Invoke'],
          resources: grants.map((g) => this.api.arnForExecuteApi(g.method, g.path, this.stage.stageName)),
        }),
      ],
    });
    for (const g of grants.filter((g) => g.path.includes('*'))) {
      Validations.of(this.callerPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${logicalIdOf(this.api)}>/$default/${g.method}${g.path}]`,
        reason:
          'Report ids are generated per request and definition names come from the configuration, so these routes are granted by their path pattern; each pattern covers one route of the contract (functions/contract.ts API_ROUTES).',
      });
    }

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
