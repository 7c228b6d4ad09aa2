/**
 * Where the reports console is served from: a private S3 bucket behind CloudFront with origin
 * access control (only this distribution may read the bucket), HTTPS only, and a response
 * headers policy with a strict Content-Security-Policy, HSTS and the usual hardening headers.
 * The built page (console/dist, built by `npm install`) and its runtime `config.json` (API URL,
 * user pool, client, region) are deployed together by a BucketDeployment, which also invalidates
 * the distribution's cache.
 *
 * The CSP is strict in two layers because of a dependency cycle: the API's CORS names the
 * distribution's domain, so the distribution's headers cannot name the API's URL. The header
 * (every response) allows scripts, styles and images from the page's own origin only, no framing,
 * no base or form targets, and connections to the page's origin, this region's Cognito and this
 * region's execute-api domains; index.html, written at deploy time, adds a <meta> policy whose
 * connect-src names this API exactly. Browsers enforce both, so connections go to this API and
 * Cognito only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { CONSOLE_DIST } from '../../console/build.js';
import { logicalIdOf } from './logical-id.js';

export interface ConsoleHostingProps {
  /** The reports API's base URL (the console calls `<apiUrl>/console/...`). */
  readonly apiUrl: string;
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  /** Where the assets bucket writes its access logs (the stack's access-log bucket). */
  readonly accessLogsBucket: s3.IBucket;
  readonly removalPolicy: RemovalPolicy;
  /** The built console (default console/dist); tests may point at another build. */
  readonly assetsDir?: string;
}

/** The header policy (see above): everything the page's own origin, Cognito and execute-api in `region`. */
export function consoleHeaderCsp(region: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' https://cognito-idp.${region}.amazonaws.com https://*.execute-api.${region}.amazonaws.com`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    'upgrade-insecure-requests',
  ].join('; ');
}

export class ConsoleHosting extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: ConsoleHostingProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    const dist = props.assetsDir ?? CONSOLE_DIST;
    if (!existsSync(join(dist, 'index.html')))
      throw new Error(`The console is not built (${dist}/index.html is missing): run npm run console:build.`);

    this.bucket = new s3.Bucket(this, 'Assets', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'console-assets/',
      removalPolicy: props.removalPolicy,
    });

    const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: 'Verifik reports console: strict CSP, HSTS, no framing, no sniffing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: consoleHeaderCsp(region), override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
      customHeadersBehavior: {
        customHeaders: [
          {
            header: 'Permissions-Policy',
            value: 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
            override: true,
          },
          { header: 'Cross-Origin-Opener-Policy', value: 'same-origin', override: true },
        ],
      },
    });

    this.distribution = new cloudfront.Distribution(this, 'Cdn', {
      comment: 'Verifik reports console',
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        compress: true,
      },
    });

    // The page as built, but index.html carries the exact connect-src (see above) and config.json
    // tells the page where the API and the user pool are. Deploy-time values, so one build serves
    // every stack.
    const meta = `<meta http-equiv="Content-Security-Policy" content="connect-src 'self' ${props.apiUrl} https://cognito-idp.${region}.amazonaws.com" />`;
    const html = readFileSync(join(dist, 'index.html'), 'utf8').replace('<head>', `<head>\n    ${meta}`);
    const deployment = new s3deploy.BucketDeployment(this, 'Deploy', {
      sources: [
        s3deploy.Source.asset(dist, { exclude: ['index.html', 'styles.css'] }),
        s3deploy.Source.data('index.html', html),
        s3deploy.Source.jsonData('config.json', {
          apiUrl: props.apiUrl,
          region,
          userPoolId: props.userPoolId,
          clientId: props.userPoolClientId,
        }),
      ],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      // File names are not content-hashed: browsers revalidate (ETag) instead of trusting a cache.
      cacheControl: [s3deploy.CacheControl.fromString('no-cache')],
      memoryLimit: 256,
      prune: true,
      // With `destroy`, the deployment empties the bucket on stack deletion so CloudFormation can
      // delete it (a bucket with objects stops the deletion); with `retain`, bucket and page stay.
      retainOnDelete: props.removalPolicy !== RemovalPolicy.DESTROY,
    });

    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'The console is for staff who may travel; who may sign in is decided by the user pool, not by country.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'The distribution serves four static files; the data behind them is on the API, which authorises every call (JWT + groups) and is throttled.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason:
          'Only the static page is served here (no personal data, no per-user content); every data request is in the API access logs.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The default *.cloudfront.net certificate allows TLS 1.0 viewers; pinning TLS 1.2 needs a custom domain and certificate, which this stack does not own.',
      },
    );
    this.deploymentAcknowledgements(deployment);
  }

  private deploymentAcknowledgements(deployment: s3deploy.BucketDeployment): void {
    // The CDK's own BucketDeployment provider: a singleton function whose role aws-cdk-lib writes.
    const provider = 'The CDK BucketDeployment provider (runs only during deployments)';
    const wildcards: [string, string][] = [
      ['Action::s3:GetObject*', 'reads the console asset from the CDK assets bucket'],
      ['Action::s3:GetBucket*', 'reads the CDK assets bucket and the console bucket'],
      ['Action::s3:List*', 'lists the console bucket to prune files a build no longer has'],
      ['Action::s3:DeleteObject*', 'deletes files a build no longer has (prune)'],
      ['Action::s3:Abort*', 'aborts its own failed uploads'],
      [
        'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*',
        'reads the uploaded asset, whose key is a content hash',
      ],
      [`Resource::<${logicalIdOf(this.bucket)}.Arn>/*`, 'writes every file of the console bucket'],
      ['Resource::*', 'invalidates the CloudFront cache, which IAM cannot scope to one distribution here'],
    ];
    const fn = Stack.of(this).node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (fn)
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-L1',
        reason: `${provider} is a Python function whose runtime aws-cdk-lib pins and updates.`,
      });
    Validations.of(deployment.handlerRole).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: `${provider} writes its logs with the AWS managed basic execution policy.`,
      },
      ...wildcards.map(([what, why]) => ({
        id: `AwsSolutions-IAM5[${what}]`,
        reason: `${provider} ${why}.`,
      })),
    );
  }
}
