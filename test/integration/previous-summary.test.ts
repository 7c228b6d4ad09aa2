/**
 * A previous `summary.json` of an unexpected shape (an older version, a write cut short) is "no
 * previous report", with a warning that says why: never a failed run. Both readers: the runs'
 * (S3, here an in-memory stand-in answering the two commands it sends) and the CLI's local one
 * (a directory, with the real CLI against the fake Verifik).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataset } from '../../dev/fake-verifik/generator.js';
import { type FakeVerifik, startFakeVerifik } from '../../dev/fake-verifik/server.js';
import { EXIT, runCli } from '../../functions/cli/main.js';
import { MANIFEST_NAME, SUMMARY_FILE } from '../../functions/contract.js';
import { reportKeyPrefix } from '../../functions/delivery/sink/s3-keys.js';
import { Manifest } from '../../functions/report/manifest.js';
import { compareSummaries, type Summary, SummaryBuilder } from '../../functions/report/summary.js';
import type { RunDeps } from '../../functions/runs/deps.js';
import { previousSummary } from '../../functions/runs/produce.js';
import { dayWindow } from '../../functions/time/window.js';

const TZ = 'America/Bogota';

/** Shapes a stored summary has been seen in, none of which the comparison can read. */
const UNUSABLE: [string, string, RegExp][] = [
  ['a write cut short', '{"timeZone":"America/Bogota","totals":{"validations":12', /not valid JSON/],
  ['an empty file', '', /not valid JSON/],
  ['JSON null', 'null', /not a summary/],
  [
    'an older version without checks',
    JSON.stringify({ totals: { validations: 3, failed: 1, highRisk: 0 }, byStatus: [] }),
    /checks/,
  ],
  ['byStatus as an object', JSON.stringify({ ...emptySummary(), byStatus: { failed: 2 } }), /byStatus/],
  [
    'a count as text',
    JSON.stringify({ ...emptySummary(), totals: { validations: '3', failed: 0, highRisk: 0 } }),
    /totals\.validations/,
  ],
];

function emptySummary(): Summary {
  return new SummaryBuilder({ timeZone: TZ }).result();
}

describe('the previous summary in S3 (runs/produce.ts previousSummary)', () => {
  const bucket = 'reports';
  const definition = 'daily-ops';
  const previousId = 'daily-ops-2024-11-30-abc';
  const prefix = reportKeyPrefix({ definition, day: '2024-11-30', reportId: previousId });

  /** The two commands previousSummary sends, answered from a map of keys. */
  function s3With(objects: Record<string, string>): S3Client {
    return {
      send: async (command: unknown) => {
        if (command instanceof ListObjectsV2Command) {
          const p = command.input.Prefix ?? '';
          const keys = Object.keys(objects).filter((k) => k.startsWith(p));
          return { Contents: keys.map((Key) => ({ Key, LastModified: new Date('2024-12-01T07:00:00Z') })) };
        }
        if (command instanceof GetObjectCommand) {
          const text = objects[command.input.Key ?? ''];
          if (text === undefined) throw Object.assign(new Error('no such key'), { name: 'NoSuchKey' });
          return { Body: { transformToByteArray: async () => new TextEncoder().encode(text) } };
        }
        throw new Error(`unexpected command ${(command as object).constructor.name}`);
      },
    } as unknown as S3Client;
  }

  function depsFor(summaryText: string) {
    const warnings: { message: string; extra: Record<string, unknown> }[] = [];
    const deps = {
      config: { REPORTS_BUCKET: bucket, REPORTS_PREFIX: 'reports/' },
      s3: s3With({ [`${prefix}${MANIFEST_NAME}`]: '{}', [`${prefix}${SUMMARY_FILE}`]: summaryText }),
      logger: {
        warn: (message: string, extra: Record<string, unknown> = {}) => warnings.push({ message, extra }),
      },
    } as unknown as RunDeps;
    return { deps, warnings };
  }

  it.each(UNUSABLE)('%s: no previous report, and a warning with the reason', async (_what, text, reason) => {
    const { deps, warnings } = depsFor(text);
    await expect(previousSummary(deps, definition, '2024-12-01', 'this-report')).resolves.toBeNull();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/without deltas/);
    expect(warnings[0]?.extra.key).toBe(`${prefix}${SUMMARY_FILE}`);
    expect(String(warnings[0]?.extra.reason)).toMatch(reason);
  });

  it('what the check prevents: the comparison itself reads fields an older summary lacks', () => {
    const older = JSON.parse(UNUSABLE[3]?.[1] ?? '') as Summary;
    expect(() => compareSummaries(emptySummary(), older)).toThrow(TypeError);
  });

  it('a summary of the expected shape is returned as it was stored', async () => {
    const stored = emptySummary();
    const { deps, warnings } = depsFor(JSON.stringify(stored));
    expect(await previousSummary(deps, definition, '2024-12-01', 'this-report')).toEqual(stored);
    expect(warnings).toEqual([]);
  });
});

describe('the previous summary in a local --out directory (the CLI)', () => {
  let fake: FakeVerifik;
  let dir: string;

  beforeAll(async () => {
    const first = dayWindow('2024-11-30', TZ);
    const second = dayWindow('2024-12-01', TZ);
    const dataset = createDataset({ seed: 3, count: 300, start: first.start, end: second.end, timeZone: TZ });
    fake = await startFakeVerifik({ dataset, token: 'previous-token' });
    dir = mkdtempSync(join(tmpdir(), 'cli-previous-'));
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function report(day: string) {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (d) => {
      out += d;
    });
    stderr.on('data', (d) => {
      err += d;
    });
    const code = await runCli(
      ['--date', day, '--tz', TZ, '--out', dir, '--format', 'csv', '--definition', 'local-delta', '--json'],
      {
        stdout,
        stderr,
        env: { VERIFIK_BASE_URL: fake.url, VERIFIK_TOKEN: fake.token },
        now: () => new Date('2024-12-02T12:00:00Z'),
      },
    );
    const manifest = code === EXIT.ok ? Manifest.parse(JSON.parse(out)) : null;
    const previousRows = manifest
      ? (
          parse(readFileSync(join(dir, manifest.id, 'summary.csv')), { bom: true, columns: true }) as {
            section: string;
          }[]
        ).filter((r) => r.section === 'previous')
      : [];
    return { code, err, manifest, previousRows };
  }

  // Three of the shapes: each costs two CLI runs.
  it.each([0, 3, 5].map((i) => UNUSABLE[i] as (typeof UNUSABLE)[number]))(
    '%s: the next report completes without deltas and says why',
    async (_what, text, reason) => {
      for (const d of readdirSync(dir)) rmSync(join(dir, d), { recursive: true, force: true });
      const first = await report('2024-11-30');
      expect(first.code).toBe(EXIT.ok);
      writeFileSync(join(dir, first.manifest?.id ?? '', SUMMARY_FILE), text);

      const second = await report('2024-12-01');
      expect(second.code).toBe(EXIT.ok);
      expect(second.previousRows).toEqual([]);
      const lines = second.err.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^verifik-reports: warning: no comparison with the previous report: /);
      expect(lines[0]).toContain(join(first.manifest?.id ?? '', SUMMARY_FILE));
      expect(lines[0]).toMatch(reason);
    },
  );

  it('a summary of the expected shape still gives the deltas', async () => {
    for (const d of readdirSync(dir)) rmSync(join(dir, d), { recursive: true, force: true });
    expect((await report('2024-11-30')).code).toBe(EXIT.ok);
    const second = await report('2024-12-01');
    expect(second.err).toBe('');
    expect(second.previousRows.length).toBeGreaterThan(0);
  });
});
