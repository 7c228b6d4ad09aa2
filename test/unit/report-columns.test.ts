import { describe, expect, it } from 'vitest';
import {
  CHECK_LABELS,
  DETAIL_COLUMNS,
  DETAIL_KEYS,
  flatten,
  HIGH_RISK_THRESHOLD,
  isFailedRow,
  isHighRisk,
  MEDIUM_RISK_THRESHOLD,
} from '../../functions/report/columns.js';
import { columnLetter, xmlText } from '../../functions/report/xlsx-rows.js';
import type { BiometricValidation } from '../../functions/verifik/schema.js';

describe('canonical columns', () => {
  it('has exactly the issue’s keys, in order, each with a readable header', () => {
    expect(DETAIL_KEYS).toEqual([
      'id',
      'createdAt',
      'updatedAt',
      'completedAt',
      'expiresAt',
      'status',
      'type',
      'identifier',
      'clientId',
      'clientName',
      'projectId',
      'projectName',
      'livenessSession',
      'requires2FA',
      'ipAddress',
      'quality',
      'livenessScore',
      'livenessDetection',
      'identityMatch',
      'antiSpoofing',
      'qualityScore',
      'riskScore',
    ]);
    for (const c of DETAIL_COLUMNS) expect(c.header).toMatch(/^[A-Z]/);
    expect(CHECK_LABELS).toEqual({
      livenessDetection: 'Liveness detection',
      identityMatch: 'Identity match',
      antiSpoofing: 'Anti-spoofing',
    });
  });

  it('flattens populated and unpopulated references, instants as epoch ms, missing as null', () => {
    const row = flatten({
      _id: 'v1',
      status: 'completed',
      createdAt: '2024-12-01T05:00:00.000Z',
      completedAt: null,
      client: { _id: 'c1', name: 'Clínica' },
      project: 'p1',
      livenessSession: { _id: 's1' },
      biometricData: { livenessScore: 0 },
      verificationResults: null,
      riskScore: 0,
    });
    expect(row).toEqual({
      id: 'v1',
      createdAt: Date.UTC(2024, 11, 1, 5),
      updatedAt: null,
      completedAt: null,
      expiresAt: null,
      status: 'completed',
      type: null,
      identifier: null,
      clientId: 'c1',
      clientName: 'Clínica',
      projectId: 'p1',
      projectName: null,
      livenessSession: 's1',
      requires2FA: null,
      ipAddress: null,
      quality: null,
      livenessScore: 0,
      livenessDetection: null,
      identityMatch: null,
      antiSpoofing: null,
      qualityScore: null,
      riskScore: 0,
    });
    expect(Object.keys(row)).toEqual(DETAIL_KEYS);
    expect(isFailedRow(row)).toBe(false);
    expect(isFailedRow({ ...row, identityMatch: 'failed' })).toBe(true);
    expect(isHighRisk({ ...row, riskScore: 0.7 })).toBe(true);
    expect(isHighRisk(row)).toBe(false);
  });
});

describe('xlsx cell helpers', () => {
  it('column letters', () => {
    expect([1, 22, 26, 27, 52, 703].map(columnLetter)).toEqual(['A', 'V', 'Z', 'AA', 'AZ', 'AAA']);
  });

  it('escapes markup, keeps CR, drops characters XML cannot carry, caps at Excel’s cell limit', () => {
    expect(xmlText('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
    expect(xmlText('x\r\ny\u0000\u0008z\uFFFF')).toBe('x&#13;\nyz');
    expect(xmlText('ünïcödé "quoted"')).toBe('ünïcödé "quoted"');
    expect(xmlText('a'.repeat(40_000)).length).toBe(32_767);
  });
});

describe('columns: what marks a row, and values that are not values', () => {
  const row = (extra: Partial<BiometricValidation>) =>
    flatten({ _id: 'a', status: 'completed', createdAt: '2024-12-01T10:00:00.000Z', ...extra });

  it('a row is failed by its status or by any one failed check', () => {
    expect(isFailedRow(row({}))).toBe(false);
    expect(isFailedRow(row({ status: 'failed' }))).toBe(true);
    for (const key of ['livenessDetection', 'identityMatch', 'antiSpoofing'] as const) {
      expect(isFailedRow(row({ verificationResults: { [key]: 'failed' } })), key).toBe(true);
      expect(isFailedRow(row({ verificationResults: { [key]: 'passed' } })), key).toBe(false);
    }
  });

  it('high risk from 0.7 on; medium from 0.3', () => {
    expect([0.6999, 0.7, 1].map((riskScore) => isHighRisk(row({ riskScore })))).toEqual([false, true, true]);
    expect(isHighRisk(row({}))).toBe(false);
    expect([MEDIUM_RISK_THRESHOLD, HIGH_RISK_THRESHOLD]).toEqual([0.3, 0.7]);
  });

  it('numbers that are not finite and instants that do not parse are missing, not NaN', () => {
    const r = row({
      riskScore: Number.NaN,
      updatedAt: 'not a time',
      biometricData: { livenessScore: Number.POSITIVE_INFINITY },
    });
    expect([r.riskScore, r.updatedAt, r.livenessScore]).toEqual([null, null, null]);
  });

  it('each check is labelled by its column header', () => {
    expect(CHECK_LABELS).toEqual({
      livenessDetection: 'Liveness detection',
      identityMatch: 'Identity match',
      antiSpoofing: 'Anti-spoofing',
    });
  });
});
