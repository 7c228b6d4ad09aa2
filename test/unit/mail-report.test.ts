import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AttachmentMismatchError, composeReportMail } from '../../functions/delivery/mail/compose.js';
import type { Manifest } from '../../functions/report/manifest.js';
import { SummaryBuilder } from '../../functions/report/summary.js';
import { dayWindow } from '../../functions/time/window.js';

const window = dayWindow('2024-12-01', 'UTC');
const bytes = {
  'validations.csv': Buffer.from('id,status\na,completed\n'),
  'summary.csv': Buffer.from('s,k,m,v\n'),
};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function result(validations: number) {
  const b = new SummaryBuilder({ timeZone: 'UTC' });
  for (let i = 0; i < validations; i++)
    b.add({ _id: `r${i}`, status: 'completed', createdAt: '2024-12-01T10:00:00Z' });
  const files = (Object.keys(bytes) as (keyof typeof bytes)[]).map((name) => ({
    name,
    kind: (name === 'summary.csv' ? 'summary-csv' : 'details-csv') as 'summary-csv' | 'details-csv',
    contentType: 'text/csv; charset=utf-8',
    bytes: bytes[name].length,
    sha256: sha(bytes[name]),
    rows: 1,
  }));
  return {
    summary: b.result(),
    delta: null,
    files,
    manifest: { generatedAt: '2024-12-02T06:00:00.000Z' } as Manifest,
  };
}

const base = {
  label: 'daily-ops',
  request: { window, statuses: [], types: [], clients: [] },
  reportId: 'r1',
  links: [],
  linksExpireAt: new Date('2024-12-09T00:00:00Z'),
  now: new Date('2024-12-02T06:00:00Z'),
  readFile: async (name: string) => bytes[name as keyof typeof bytes],
};

describe('composeReportMail', () => {
  it('attaches the stored files under their download names when they fit', async () => {
    const composed = await composeReportMail({
      ...base,
      result: result(3),
      budgetBytes: 10_000,
      attachmentName: (n) => `verifik-daily-ops-2024-12-01-${n}`,
    });
    expect(composed.decision?.mode).toBe('attached');
    expect(composed.attachments.map((a) => a.filename)).toEqual([
      'verifik-daily-ops-2024-12-01-validations.csv',
      'verifik-daily-ops-2024-12-01-summary.csv',
    ]);
    expect(composed.attachments[0]?.content.equals(bytes['validations.csv'])).toBe(true);
    expect(composed.mail.subject).toContain('3 validations');
  });

  it('links only over budget, and never reads the files', async () => {
    let reads = 0;
    const composed = await composeReportMail({
      ...base,
      result: result(3),
      budgetBytes: 10,
      readFile: async () => {
        reads++;
        return Buffer.alloc(0);
      },
    });
    expect(composed.decision?.mode).toBe('links-only');
    expect(composed.attachments).toHaveLength(0);
    expect(reads).toBe(0);
  });

  it('refuses to attach bytes that differ from the manifest', async () => {
    await expect(
      composeReportMail({
        ...base,
        result: result(3),
        budgetBytes: 10_000,
        readFile: async () => Buffer.from('x'),
      }),
    ).rejects.toBeInstanceOf(AttachmentMismatchError);
  });

  it('an empty report gets the "no validations" mail, with nothing attached', async () => {
    const composed = await composeReportMail({ ...base, result: result(0), budgetBytes: 10_000 });
    expect(composed.mail.subject).toBe('[daily-ops] 2024-12-01 (UTC): no validations');
    expect(composed.attachments).toHaveLength(0);
    expect(composed.decision).toBeNull();
  });
});
