/**
 * Destinations in the stack: the scheduled function may read exactly the secrets the
 * definitions name (GetSecretValue on `secret:<name>-??????`), no other function may, the
 * template never holds a webhook URL, cdk-nag stays clean, and a bad destination fails synthesis
 * with the field named.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ReportDefinitions } from '../../functions/settings/definitions.js';
import { buildApp } from '../../infra/build-app.js';

const stub = () => Code.fromInline('exports.handler = async () => ({})');

function definition(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    schedule: { hour: 7, minute: 30, timeZone: 'Europe/Madrid' },
    recipients: ['ops@corp.example.org'],
    owners: ['owner@corp.example.org'],
    ...extra,
  };
}

const CHAT_OPS_DESTINATIONS = [
  { kind: 'slack', name: 'ops-slack', secret: 'reports/slack-ops' },
  { kind: 'teams', name: 'ops-teams', secret: 'reports/teams-ops' },
  { kind: 'webhook', name: 'siem', secret: 'reports/siem-hook' },
];
const WITH_DESTINATIONS = [
  definition('chat-ops', { destinations: CHAT_OPS_DESTINATIONS }),
  // The same secret in two definitions: granted once.
  definition('chat-risk', { destinations: [{ kind: 'slack', name: 'risk', secret: 'reports/slack-ops' }] }),
  definition('mail-only'),
];

const build = (definitions: unknown[], nag = false) =>
  buildApp({
    nag,
    functionCode: stub,
    context: { reporting: { definitions, allowedRecipientDomains: ['corp.example.org'] } },
  });

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
}

let built: ReturnType<typeof build>;
let template: Template;
let resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;

beforeAll(() => {
  built = build(WITH_DESTINATIONS);
  template = Template.fromStack(built.stack);
  resources = template.toJSON().Resources;
});

function statementsOf(rolePrefix: string): Statement[] {
  const roleId = Object.keys(resources).find(
    (id) => resources[id]?.Type === 'AWS::IAM::Role' && id.startsWith(rolePrefix),
  );
  expect(roleId, rolePrefix).toBeDefined();
  return Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]),
    )
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

describe('destination secrets in the stack', () => {
  it('expect the scheduled function to read exactly the named secrets, GetSecretValue only, by name-??????', () => {
    const read = statementsOf('FunctionsScheduled').filter((s) => s.Sid === 'ReadDestinationSecrets');
    expect(read).toHaveLength(1);
    expect(read[0]?.Action).toBe('secretsmanager:GetSecretValue');
    const arns = (read[0]!.Resource as unknown[]).map((r) => JSON.stringify(r));
    expect(arns).toHaveLength(3);
    for (const name of ['reports/siem-hook', 'reports/slack-ops', 'reports/teams-ops'])
      expect(arns.some((a) => a.includes(`:secret:${name}-??????`))).toBe(true);
    expect(arns.join()).not.toContain('*');
  });

  it('expect no other function to read them', () => {
    for (const fn of ['FunctionsWorker', 'FunctionsApi', 'FunctionsSweeper', 'FunctionsSesEvents']) {
      const text = JSON.stringify(statementsOf(fn));
      expect(text, fn).not.toContain('ReadDestinationSecrets');
      expect(text, fn).not.toContain('slack-ops');
    }
  });

  it('expect the environment to carry destination names and secret names only, and nothing when there are none', () => {
    const env = JSON.stringify(template.toJSON());
    expect(env).not.toMatch(/hooks\.slack\.com|https:\/\/[^"]*webhook/);
    const scheduled = Object.entries(resources).find(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('FunctionsScheduled'),
    )?.[1];
    const vars = (scheduled!.Properties.Environment as { Variables: Record<string, string> }).Variables;
    const defs = JSON.parse(vars.REPORT_DEFINITIONS ?? '[]') as { name: string; destinations?: unknown }[];
    expect(defs.find((d) => d.name === 'chat-ops')?.destinations).toEqual(CHAT_OPS_DESTINATIONS);
    expect(defs.find((d) => d.name === 'mail-only')).not.toHaveProperty('destinations');
    // The functions parse what the stack wrote.
    expect(ReportDefinitions.parse(defs)[0]?.destinations).toHaveLength(3);
  });

  it('expect no grant at all without destinations', () => {
    const t = build([definition('mail-only')]).stack;
    expect(JSON.stringify(Template.fromStack(t).toJSON())).not.toContain('ReadDestinationSecrets');
  });

  it('expect cdk-nag to find nothing with destinations configured', () => {
    // The same app as the template above: one synthesis for both.
    const report = new AwsSolutionsChecks().validateScope(built.app);
    expect(
      report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
  });
});

describe('synthesis refuses a bad destination, naming the field', () => {
  const refuse = (destinations: unknown[], field: RegExp, message: RegExp) => {
    let error: Error | undefined;
    try {
      build([definition('chat-ops', { destinations })]);
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).toMatch(field);
    expect(error?.message).toMatch(message);
    return error?.message ?? '';
  };

  it('a URL where the secret name goes, without repeating the URL', () => {
    const url = 'https://hooks.slack.com/services/T000/B000/XXXXSECRET';
    const message = refuse(
      [{ kind: 'slack', name: 'ops', secret: url }],
      /definitions\.0\.destinations\.0\.secret/,
      /put it in a Secrets Manager secret/,
    );
    expect(message).not.toContain('XXXXSECRET');
  });

  it('a duplicate destination name', () =>
    refuse(
      [
        { kind: 'slack', name: 'ops', secret: 'a' },
        { kind: 'teams', name: 'ops', secret: 'b' },
      ],
      /definitions\.0\.destinations\.1\.name/,
      /duplicate destination "ops"/,
    ));

  it('an unknown kind', () =>
    refuse(
      [{ kind: 'discord', name: 'ops', secret: 'a' }],
      /definitions\.0\.destinations\.0\.kind/,
      /slack|teams|webhook/,
    ));

  it('an ARN, a bad name, an unknown field (a "url" next to the secret)', () => {
    refuse(
      [{ kind: 'slack', name: 'ops', secret: 'arn:aws:secretsmanager:us-east-1:1:secret:x' }],
      /destinations\.0\.secret/,
      /not its ARN/,
    );
    refuse([{ kind: 'webhook', name: 'Ops Hook', secret: 'a' }], /destinations\.0\.name/, /lowercase/);
    refuse([{ kind: 'webhook', name: 'ops', secret: 'a', url: 'x' }], /destinations\.0/, /url/);
  });

  it('a scope naming a destination the definition does not have', () => {
    let error: Error | undefined;
    try {
      build([
        definition('chat-ops', {
          destinations: [{ kind: 'slack', name: 'ops', secret: 'a' }],
          splitBy: { by: 'project', scopes: [{ name: 'acme', id: 'p1', destinations: ['ops', 'nope'] }] },
        }),
      ]);
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).toMatch(/definitions\.0\.splitBy\.scopes\.0\.destinations\.1/);
    expect(error?.message).toMatch(/no destination "nope"/);
  });
});
