/**
 * The deployment configuration: defaults, the cdk.json / -c config=FILE layers, and the
 * mistakes it refuses before CloudFormation ever sees them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/build-app.js';
import {
  alarmRecipients,
  configFromContext,
  DEFAULT_CONFIG,
  DeploymentConfigError,
  mergeLayers,
  parseDeploymentConfig,
} from '../../infra/config.js';
import {
  BUNDLING,
  EnvironmentTooLargeError,
  environmentBytes,
} from '../../infra/constructs/report-functions.js';
import { expectDeletionPolicy } from '../support/cdk-template.js';

const stub = () => Code.fromInline('exports.handler = async () => ({})');
const context = (values: Record<string, unknown>) => ({ tryGetContext: (key: string) => values[key] });

function definition(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    schedule: { hour: 7, minute: 30, timeZone: 'Europe/Madrid' },
    recipients: ['ops@corp.example.org'],
    owners: ['owner@corp.example.org'],
    ...extra,
  };
}

describe('configuration layers', () => {
  it('defaults to one example definition with 90-day retention and 7-day links', () => {
    const config = configFromContext(context({}));
    expect(config.definitions.map((d) => d.name)).toEqual(['daily-all']);
    expect(config.reportRetentionDays).toBe(90);
    expect(config.linkTtlDays).toBe(7);
    expect(config.verifikBaseUrl).toBe('https://api.verifik.co');
    expect(config.verifikConcurrency).toBe(8);
    expect(config.functions.api).toEqual({ memoryMb: 512, timeoutSeconds: 29 });
    expect(config.removalPolicy).toBe('retain');
  });

  it('merges objects key by key and replaces arrays', () => {
    expect(mergeLayers({ a: { b: 1, c: 2 }, list: [1, 2] }, { a: { c: 3 }, list: [9] })).toEqual({
      a: { b: 1, c: 3 },
      list: [9],
    });
  });

  it('replaces the sender whole, so an address override does not inherit the default domain', () => {
    const merged = mergeLayers(DEFAULT_CONFIG, { sender: { address: 'me@corp.example.org' } });
    expect(merged.sender).toEqual({ address: 'me@corp.example.org' });
  });

  it('takes the `reporting` context (object or JSON string) over the defaults', () => {
    const override = {
      definitions: [definition('madrid-morning')],
      allowedRecipientDomains: ['corp.example.org'],
      functions: { api: { memoryMb: 256, timeoutSeconds: 10 } },
    };
    for (const value of [override, JSON.stringify(override)]) {
      const config = configFromContext(context({ reporting: value }));
      expect(config.definitions.map((d) => d.name)).toEqual(['madrid-morning']);
      expect(config.functions.api).toEqual({ memoryMb: 256, timeoutSeconds: 10 });
      // Untouched siblings keep their defaults.
      expect(config.functions.worker).toEqual({ memoryMb: 3008, timeoutSeconds: 900 });
      expect(config.sender).toEqual(DEFAULT_CONFIG.sender);
    }
  });

  it('reads -c config=FILE last, relative to the working directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'infra-config-'));
    writeFileSync(join(dir, 'team.json'), JSON.stringify({ reportRetentionDays: 30, linkTtlDays: 3 }));
    const config = configFromContext(
      context({ reporting: { reportRetentionDays: 400 }, config: 'team.json' }),
      dir,
    );
    expect(config.reportRetentionDays).toBe(30);
    expect(config.linkTtlDays).toBe(3);
  });

  it('says which file could not be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'infra-config-'));
    expect(() => configFromContext(context({ config: 'missing.json' }), dir)).toThrow(
      /missing\.json.*cannot read/s,
    );
  });

  it('sends alarms to the definitions owners unless alarmEmails is set', () => {
    const config = configFromContext(
      context({
        reporting: {
          definitions: [definition('a'), definition('b', { owners: ['Owner@corp.example.org', 'x@y.io'] })],
          allowedRecipientDomains: ['corp.example.org'],
        },
      }),
    );
    expect(alarmRecipients(config)).toEqual(['owner@corp.example.org', 'x@y.io']);
    expect(alarmRecipients({ ...config, alarmEmails: ['pager@corp.example.org'] })).toEqual([
      'pager@corp.example.org',
    ]);
  });
});

describe('refused configurations', () => {
  const base = mergeLayers(DEFAULT_CONFIG);
  const refuse = (patch: Record<string, unknown>, message: RegExp) => {
    expect(() => parseDeploymentConfig(mergeLayers(base, patch))).toThrow(DeploymentConfigError);
    expect(() => parseDeploymentConfig(mergeLayers(base, patch))).toThrow(message);
  };

  it('links that outlive the files', () =>
    refuse({ reportRetentionDays: 5, linkTtlDays: 7 }, /linkTtlDays: links \(7 days\)/));
  it('recipients outside the allowed domains', () =>
    refuse(
      { definitions: [definition('x')] },
      /definitions\.0\.recipients: not in allowedRecipientDomains: ops@corp/,
    ));
  it('a sender address outside the sender domain', () =>
    refuse({ sender: { address: 'reports@other.example', domain: 'example.com' } }, /sender\.address/));
  it('a log retention CloudWatch does not offer', () =>
    refuse({ logRetentionDays: 45 }, /logRetentionDays: one of/));
  it('an unknown time zone', () =>
    refuse(
      { definitions: [{ ...definition('x'), schedule: { hour: 6, minute: 0, timeZone: 'Mars/Olympus' } }] },
      /timeZone/,
    ));
  it('duplicate definition names', () =>
    refuse(
      {
        allowedRecipientDomains: ['corp.example.org'],
        definitions: [definition('same'), definition('same')],
      },
      /duplicate definition "same"/,
    ));
  it('no definitions at all', () => refuse({ definitions: [] }, /at least one report definition/));
  describe('sendIf and splitBy, with the field named', () => {
    const corp = (d: Record<string, unknown>) => ({
      allowedRecipientDomains: ['corp.example.org'],
      definitions: [d],
    });
    it('a rate threshold written as a percentage', () =>
      refuse(
        corp(definition('x', { sendIf: { conditions: [{ metric: 'failureRate', above: 15 }] } })),
        /definitions\.0\.sendIf\.conditions\.0\.above: failureRate is a fraction from 0 to 1/,
      ));
    it('a condition on a check without naming the check', () =>
      refuse(
        corp(definition('x', { sendIf: { conditions: [{ metric: 'checkFailRate', above: 0.1 }] } })),
        /definitions\.0\.sendIf\.conditions\.0\.check/,
      ));
    it('a scope recipient outside the allowed domains', () =>
      refuse(
        corp(
          definition('x', {
            splitBy: {
              by: 'project',
              scopes: [{ name: 'a', id: 'p1', recipients: ['eve@elsewhere.example'] }],
            },
          }),
        ),
        /definitions\.0\.splitBy\.scopes\.0\.recipients: not in allowedRecipientDomains: eve@elsewhere/,
      ));
    it('two scopes of one project, and a scope name too long for its reports', () => {
      refuse(
        corp(
          definition('x', {
            splitBy: {
              by: 'project',
              scopes: [
                { name: 'a', id: 'p1' },
                { name: 'b', id: 'p1' },
              ],
            },
          }),
        ),
        /definitions\.0\.splitBy\.scopes\.1\.id: project "p1" is in two scopes/,
      );
      refuse(
        corp(
          definition('a-definition-name-of-thirty-chars', {
            splitBy: { by: 'client', scopes: [{ name: 'a-scope-of-twenty-chars', id: 'c1' }] },
          }),
        ),
        /splitBy\.scopes\.0\.name: .* must be at most 48 characters/,
      );
    });
    it('more scopes than a run holds', () =>
      refuse(
        corp(
          definition('x', {
            splitBy: {
              by: 'client',
              scopes: Array.from({ length: 51 }, (_, i) => ({ name: `s${i}`, id: `c${i}` })),
            },
          }),
        ),
        /definitions\.0\.splitBy\.scopes: .*50/,
      ));
  });
  it('a plain-HTTP Verifik URL', () => refuse({ verifikBaseUrl: 'http://api.verifik.co' }, /verifikBaseUrl/));
  it.each([0, 33, 2.5, '4'])(
    'a Verifik concurrency of %j (a whole number from 1 to 32)',
    (verifikConcurrency) =>
      refuse({ verifikConcurrency }, /verifikConcurrency: must be a whole number from 1 to 32/),
  );
});

describe('configuration in the template', () => {
  it('creates one schedule per definition, each in its own zone, and passes overrides through', () => {
    const reporting = {
      allowedRecipientDomains: ['corp.example.org'],
      sender: { address: 'reports@corp.example.org' },
      definitions: [
        definition('madrid-morning'),
        definition('bogota-noon', { schedule: { hour: 12, minute: 5, timeZone: 'America/Bogota' } }),
      ],
      reportRetentionDays: 30,
      linkTtlDays: 2,
      verifikConcurrency: 3,
      api: { throttlingRateLimit: 3, throttlingBurstLimit: 6 },
      workerReservedConcurrency: 4,
      removalPolicy: 'destroy',
    };
    const { stack } = buildApp({ nag: false, functionCode: stub, context: { reporting } });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 7 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Madrid',
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(5 12 * * ? *)',
      ScheduleExpressionTimezone: 'America/Bogota',
    });
    // An address identity when no domain is configured.
    template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'reports@corp.example.org' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingBurstLimit: 6, ThrottlingRateLimit: 3 },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 4 });
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0] as {
      Properties: { Environment: { Variables: Record<string, string> } };
    };
    expect(fn.Properties.Environment.Variables.LINK_TTL_SECONDS).toBe(String(2 * 86_400));
    expect(fn.Properties.Environment.Variables.VERIFIK_CONCURRENCY).toBe('3');
    expectDeletionPolicy(template, 'Delete');
    expect(JSON.stringify(template.findResources('AWS::S3::Bucket'))).toContain('"ExpirationInDays":30');
    // No DKIM outputs for an address identity.
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('DkimRecord1');
  });

  it('schedules each cadence on its run days, in its zone', () => {
    const madrid = { hour: 6, minute: 0, timeZone: 'Europe/Madrid' };
    const reporting = {
      allowedRecipientDomains: ['corp.example.org'],
      sender: { address: 'reports@corp.example.org' },
      definitions: [
        definition('weekly-mon', { schedule: madrid, cadence: { kind: 'weekly' } }),
        definition('weekly-wed', { schedule: madrid, cadence: { kind: 'weekly', weekday: 3, weekStart: 7 } }),
        definition('monthly', { schedule: madrid, cadence: { kind: 'monthly', day: 2 } }),
        definition('weekdays', { schedule: madrid, cadence: { kind: 'weekdays', monday: 'skips-weekend' } }),
      ],
    };
    const { stack } = buildApp({ nag: false, functionCode: stub, context: { reporting } });
    const expressions = Object.values(
      Template.fromStack(stack).findResources('AWS::Scheduler::Schedule'),
    ).map(
      (r) =>
        (r as { Properties: { ScheduleExpression: string; ScheduleExpressionTimezone: string } }).Properties,
    );
    expect(expressions.map((p) => p.ScheduleExpression).sort()).toEqual([
      'cron(0 6 2 * ? *)',
      'cron(0 6 ? * MON *)',
      'cron(0 6 ? * MON-FRI *)',
      'cron(0 6 ? * WED *)',
    ]);
    expect(new Set(expressions.map((p) => p.ScheduleExpressionTimezone))).toEqual(new Set(['Europe/Madrid']));
  });

  it('refuses a cadence that does not exist, naming the field', () => {
    const reporting = {
      allowedRecipientDomains: ['corp.example.org'],
      sender: { address: 'reports@corp.example.org' },
      definitions: [definition('monthly', { cadence: { kind: 'monthly', day: 31 } })],
    };
    expect(() => buildApp({ nag: false, functionCode: stub, context: { reporting } })).toThrow(/cadence/);
  });

  it('is environment-agnostic unless the configuration pins account and region', () => {
    const agnostic = buildApp({ nag: false, functionCode: stub }).stack;
    expect(Token.isUnresolved(agnostic.region)).toBe(true);
    expect(Token.isUnresolved(agnostic.account)).toBe(true);
    const pinned = buildApp({
      nag: false,
      functionCode: stub,
      context: { reporting: { env: { account: '123456789012', region: 'eu-west-1' } } },
    }).stack;
    expect([pinned.account, pinned.region]).toEqual(['123456789012', 'eu-west-1']);
  });

  it('fits ten typical definitions in the 4 KB Lambda environment', () => {
    const ten = Array.from({ length: 10 }, (_, i) => definition(`team-${i}`));
    const { stack } = buildApp({
      nag: false,
      functionCode: stub,
      context: { reporting: { definitions: ten, allowedRecipientDomains: ['corp.example.org'] } },
    });
    expect(Template.fromStack(stack).findResources('AWS::Scheduler::Schedule')).toSatisfy(
      (r: object) => Object.keys(r).length === 10,
    );
  });

  it('counts keys and values, with deploy-time values at their longest', () => {
    expect(environmentBytes({ AB: 'xyz' })).toBe(5);
    expect(environmentBytes({ A: Token.asString({ Ref: 'Something' }) })).toBe(1 + 160);
  });

  it('refuses definitions too large for the 4 KB Lambda environment', () => {
    const many = Array.from({ length: 20 }, (_, i) =>
      definition(`report-${i}`, { description: 'x'.repeat(150), clients: ['client-a', 'client-b'] }),
    );
    expect(() =>
      buildApp({
        nag: false,
        functionCode: stub,
        context: { reporting: { definitions: many, allowedRecipientDomains: ['corp.example.org'] } },
      }),
    ).toThrow(EnvironmentTooLargeError);
  });
});

describe('bundling options', () => {
  it('bundle ESM with source maps and a require shim, locally, with the AWS SDK inside', () => {
    expect(BUNDLING).toMatchObject({
      forceDockerBundling: false,
      format: 'esm',
      minify: true,
      sourceMap: true,
      bundleAwsSDK: true,
      mainFields: ['module', 'main'],
    });
    expect(BUNDLING.banner).toContain('createRequire');
    expect(BUNDLING.externalModules).toEqual([]);
  });
});
