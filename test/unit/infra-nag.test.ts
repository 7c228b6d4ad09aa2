/**
 * cdk-nag 3 (AWS Solutions): zero unacknowledged findings, errors or warnings; synthesis with
 * the plugin registered succeeds; and every acknowledgement answers a real finding with a
 * specific reason (a stale or vague acknowledgement would hide the next real problem).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../infra/build-app.js';

const stub = () => Code.fromInline('exports.handler = async () => ({})');

afterEach(() => {
  vi.restoreAllMocks();
});

describe('cdk-nag AWS Solutions checks', () => {
  it('find nothing unacknowledged: no errors and no warnings', () => {
    const { app } = buildApp({ nag: false, functionCode: stub });
    const report = new AwsSolutionsChecks().validateScope(app);
    const findings = report.violations.map(
      (v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('let the app synthesise with the plugin registered, writing an empty validation report', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'infra-nag-'));
    const { app } = buildApp({ nag: true, functionCode: stub, outdir });
    expect(() => app.synth()).not.toThrow();
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { violations?: unknown[] }[];
    };
    expect(report.pluginReports.flatMap((p) => p.violations ?? [])).toEqual([]);
  });

  it('fail synthesis on a finding nobody acknowledged (the plugin is really wired in)', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'infra-nag-'));
    const { app, stack } = buildApp({ nag: true, functionCode: stub, outdir });
    new Queue(stack, 'Unencrypted', { encryption: QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS2/);
  });

  it('acknowledge only real findings, each with a specific reason', () => {
    const acknowledged: { id: string; reason: string; path: string }[] = [];
    vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(function (
      this: Validations,
      ...rules: { id: string; reason: string }[]
    ) {
      const path = (this as unknown as { scope: { node: { path: string } } }).scope.node.path;
      for (const rule of rules) acknowledged.push({ ...rule, path });
    });
    const { app } = buildApp({ nag: false, functionCode: stub });
    const findings = new AwsSolutionsChecks()
      .validateScope(app)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath ?? '' })),
      );

    expect(acknowledged.length).toBeGreaterThanOrEqual(8);
    for (const ack of acknowledged) {
      const answered = findings.some(
        (f) => f.rule === ack.id && (f.path === ack.path || f.path.startsWith(`${ack.path}/`)),
      );
      expect(answered, `${ack.id} at ${ack.path} acknowledges nothing`).toBe(true);
      expect(ack.reason.length, `${ack.id}: reason too short`).toBeGreaterThanOrEqual(60);
    }
    // And without the acknowledgements every finding is one we acknowledged (nothing else hides).
    for (const f of findings) {
      const covered = acknowledged.some(
        (a) => a.id === f.rule && (f.path === a.path || f.path.startsWith(`${a.path}/`)),
      );
      expect(covered, `${f.rule} at ${f.path}`).toBe(true);
    }
  });
});
