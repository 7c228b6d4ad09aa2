import { describe, expect, it } from 'vitest';
import { downloadName, newReportId } from '../../functions/core/naming.js';

const day = { definition: 'daily-ops', window: { from: '2024-12-01', to: '2024-12-01' } };
const week = { definition: 'daily-ops', window: { from: '2024-12-01', to: '2024-12-07' } };

describe('downloadName', () => {
  it('names the report, its days and the file', () => {
    expect(downloadName(day, 'validations.xlsx')).toBe('verifik-daily-ops-2024-12-01-validations.xlsx');
    expect(downloadName(week, 'summary.csv')).toBe('verifik-daily-ops-2024-12-01_2024-12-07-summary.csv');
    expect(downloadName(day, 'manifest')).toBe('verifik-daily-ops-2024-12-01-manifest');
  });
});

describe('newReportId', () => {
  it('is url-safe, names the days and the time, and differs between two calls', () => {
    const now = new Date('2024-12-02T06:05:09.123Z');
    const a = newReportId(week, now);
    expect(a).toMatch(/^daily-ops-2024-12-01--2024-12-07-20241202T060509-[0-9a-f]{6}$/);
    expect(newReportId(day, now)).toMatch(/^daily-ops-2024-12-01-20241202T060509-[0-9a-f]{6}$/);
    expect(newReportId(week, now)).not.toBe(a);
  });
});
