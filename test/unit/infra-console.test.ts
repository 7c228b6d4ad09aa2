/**
 * The console's resources as synthesised: an invite-only user pool limited to the allowed domains
 * with TOTP, a public-client app client with short sessions, the three groups; a private bucket
 * behind CloudFront (origin access control, HTTPS only, strict headers); JWT-authorized routes
 * for the console's client only, CORS for the console's origin only.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/build-app.js';

type Json = Record<string, unknown>;
let template: Template;
let resources: Record<string, { Type: string; Properties: Json }>;

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const one = (type: string) => {
  const all = ofType(type);
  expect(all, type).toHaveLength(1);
  return all[0]!;
};

beforeAll(() => {
  const { stack } = buildApp({
    nag: false,
    functionCode: () => Code.fromInline('exports.handler = async () => ({})'),
  });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});

describe('console users', () => {
  it('is invite-only, TOTP-capable (optional in the pool), with a strong password policy and the guard on sign-up and sign-in', () => {
    const [guardId] =
      ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('ConsoleUsersGuard')) ?? [];
    const pool = one('AWS::Cognito::UserPool')[1].Properties;
    expect(pool).toMatchObject({
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      UsernameAttributes: ['email'],
      Policies: {
        PasswordPolicy: {
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
          TemporaryPasswordValidityDays: 3,
        },
      },
      LambdaConfig: {
        PreSignUp: { 'Fn::GetAtt': [guardId, 'Arn'] },
        PreAuthentication: { 'Fn::GetAtt': [guardId, 'Arn'] },
      },
    });
    const guardEnv = (resources[guardId!]!.Properties.Environment as { Variables: Json }).Variables;
    expect(guardEnv.ALLOWED_RECIPIENT_DOMAINS).toBe('example.com');
    expect(pool.DeviceConfiguration).toBeUndefined();
  });

  it('has a secretless app client for password/SRP sign-in with 15-minute tokens and 8-hour refresh, existence errors hidden', () => {
    const client = one('AWS::Cognito::UserPoolClient')[1].Properties;
    expect(client).toMatchObject({
      GenerateSecret: false,
      ExplicitAuthFlows: expect.arrayContaining([
        'ALLOW_USER_PASSWORD_AUTH',
        'ALLOW_USER_SRP_AUTH',
        'ALLOW_REFRESH_TOKEN_AUTH',
      ]),
      PreventUserExistenceErrors: 'ENABLED',
      AccessTokenValidity: 15,
      IdTokenValidity: 15,
      RefreshTokenValidity: 480,
      EnableTokenRevocation: true,
    });
    expect(client.AllowedOAuthFlows).toBeUndefined();
  });

  it('has the groups viewers, requesters and admins', () => {
    expect(
      ofType('AWS::Cognito::UserPoolGroup')
        .map(([, g]) => g.Properties.GroupName)
        .sort(),
    ).toEqual(['admins', 'requesters', 'viewers']);
  });
});

describe('console hosting', () => {
  it('keeps the assets bucket private, TLS-only, readable by the distribution alone (origin access control)', () => {
    const [bucketId, bucket] = ofType('AWS::S3::Bucket').find(([id]) =>
      id.startsWith('ConsoleHostingAssets'),
    )!;
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const policy = ofType('AWS::S3::BucketPolicy').find(([, p]) =>
      JSON.stringify(p.Properties.Bucket).includes(bucketId),
    )!;
    const text = JSON.stringify(policy[1].Properties.PolicyDocument);
    expect(text).toContain('cloudfront.amazonaws.com');
    expect(text).toContain('AWS:SourceArn');
    expect(text).toContain('aws:SecureTransport');
    one('AWS::CloudFront::OriginAccessControl');
  });

  it('serves HTTPS only with a strict CSP (no inline scripts), HSTS, no framing, no sniffing, no referrer', () => {
    const dist = one('AWS::CloudFront::Distribution')[1].Properties.DistributionConfig as Json;
    expect(dist).toMatchObject({
      DefaultRootObject: 'index.html',
      DefaultCacheBehavior: { ViewerProtocolPolicy: 'https-only' },
    });
    const headers = one('AWS::CloudFront::ResponseHeadersPolicy')[1].Properties
      .ResponseHeadersPolicyConfig as {
      SecurityHeadersConfig: Json;
    };
    const sec = headers.SecurityHeadersConfig as {
      ContentSecurityPolicy: { ContentSecurityPolicy: unknown };
      StrictTransportSecurity: Json;
      FrameOptions: Json;
      ReferrerPolicy: Json;
    };
    const csp = JSON.stringify(sec.ContentSecurityPolicy.ContentSecurityPolicy);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(sec.StrictTransportSecurity).toMatchObject({
      AccessControlMaxAgeSec: 31_536_000,
      IncludeSubdomains: true,
    });
    expect(sec.FrameOptions).toMatchObject({ FrameOption: 'DENY' });
    expect(sec.ReferrerPolicy).toMatchObject({ ReferrerPolicy: 'no-referrer' });
  });

  it('deploys the page with its deploy-time values: index.html (the API in connect-src) and config.json (API, region, pool, client)', () => {
    const deploy = ofType('Custom::CDKBucketDeployment')[0]![1].Properties;
    const [poolId] = one('AWS::Cognito::UserPool');
    const [clientId] = one('AWS::Cognito::UserPoolClient');
    const [apiId] = one('AWS::ApiGatewayV2::Api');
    const endpoint = { 'Fn::GetAtt': [apiId, 'ApiEndpoint'] };
    // Three sources: the built assets (no values), index.html, config.json.
    expect(deploy.SourceMarkers).toEqual([
      {},
      { '<<marker:0xbaba:0>>': endpoint, '<<marker:0xbaba:1>>': { Ref: 'AWS::Region' } },
      {
        '<<marker:0xbaba:0>>': endpoint,
        '<<marker:0xbaba:1>>': { Ref: 'AWS::Region' },
        '<<marker:0xbaba:2>>': { Ref: poolId },
        '<<marker:0xbaba:3>>': { Ref: clientId },
      },
    ]);
    expect(deploy.DistributionPaths).toEqual(['/*']);
  });
});

describe('console API routes', () => {
  it('authorise with a Cognito JWT authorizer for the console client only', () => {
    const auth = one('AWS::ApiGatewayV2::Authorizer')[1].Properties;
    const [clientId] = one('AWS::Cognito::UserPoolClient');
    expect(auth).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Audience: [{ Ref: clientId }] },
    });
    expect(JSON.stringify(auth.JwtConfiguration)).toContain('cognito-idp.');
  });

  it('allow CORS from the console’s origin only', () => {
    const api = one('AWS::ApiGatewayV2::Api')[1].Properties;
    const [distId] = one('AWS::CloudFront::Distribution');
    expect(api.CorsConfiguration).toEqual({
      AllowOrigins: [{ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distId, 'DomainName'] }]] }],
      AllowMethods: ['GET', 'POST'],
      AllowHeaders: ['authorization', 'content-type', 'idempotency-key'],
      MaxAge: 600,
    });
  });

  it('let the API function ask Cognito about MFA (AdminGetUser on this pool only) and know the pool', () => {
    const [poolId] = one('AWS::Cognito::UserPool');
    const statements = ofType('AWS::IAM::Policy').flatMap(
      ([, p]) =>
        (p.Properties.PolicyDocument as { Statement: { Sid?: string; Action: unknown; Resource: unknown }[] })
          .Statement,
    );
    const mfa = statements.filter((s) => s.Sid === 'ConsoleMfaCheck');
    expect(mfa).toEqual([
      expect.objectContaining({
        Action: 'cognito-idp:AdminGetUser',
        Resource: { 'Fn::GetAtt': [poolId, 'Arn'] },
      }),
    ]);
    const [, api] = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('FunctionsApi'))!;
    expect((api.Properties.Environment as { Variables: Json }).Variables.CONSOLE_USER_POOL_ID).toEqual({
      Ref: poolId,
    });
  });
});
