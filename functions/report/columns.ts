/**
 * The canonical flattened row: one validation as the flat list of fields every detail output
 * (the Validations sheet, the details CSV) shows, in one fixed order. Renderers only decide how
 * each kind of value looks; what the columns are is decided here, once.
 */
import { CHECK_KEYS, type CheckKey } from '../contract.js';
import { parseInstant } from '../time/instant.js';
import { type BiometricValidation, refId, refName } from '../verifik/schema.js';

export type ColumnKind = 'string' | 'datetime' | 'number' | 'score' | 'boolean';

export interface FlatRow {
  id: string;
  /** Instants as epoch milliseconds; null when the field was missing. */
  createdAt: number;
  updatedAt: number | null;
  completedAt: number | null;
  expiresAt: number | null;
  status: string;
  type: string | null;
  identifier: string | null;
  clientId: string | null;
  clientName: string | null;
  projectId: string | null;
  projectName: string | null;
  livenessSession: string | null;
  requires2FA: boolean | null;
  ipAddress: string | null;
  quality: string | null;
  livenessScore: number | null;
  livenessDetection: string | null;
  identityMatch: string | null;
  antiSpoofing: string | null;
  qualityScore: number | null;
  riskScore: number | null;
}

export type ColumnKey = keyof FlatRow;

export interface ColumnSpec {
  readonly key: ColumnKey;
  /** Readable header for spreadsheets (the CSV header uses `key`). */
  readonly header: string;
  readonly kind: ColumnKind;
  /** Excel column width in characters. */
  readonly width: number;
}

export const DETAIL_COLUMNS: readonly ColumnSpec[] = [
  { key: 'id', header: 'Validation ID', kind: 'string', width: 26 },
  { key: 'createdAt', header: 'Created at', kind: 'datetime', width: 20 },
  { key: 'updatedAt', header: 'Updated at', kind: 'datetime', width: 20 },
  { key: 'completedAt', header: 'Completed at', kind: 'datetime', width: 20 },
  { key: 'expiresAt', header: 'Expires at', kind: 'datetime', width: 20 },
  { key: 'status', header: 'Status', kind: 'string', width: 12 },
  { key: 'type', header: 'Type', kind: 'string', width: 12 },
  { key: 'identifier', header: 'Identifier', kind: 'string', width: 28 },
  { key: 'clientId', header: 'Client ID', kind: 'string', width: 26 },
  { key: 'clientName', header: 'Client', kind: 'string', width: 24 },
  { key: 'projectId', header: 'Project ID', kind: 'string', width: 26 },
  { key: 'projectName', header: 'Project', kind: 'string', width: 24 },
  { key: 'livenessSession', header: 'Liveness session', kind: 'string', width: 26 },
  { key: 'requires2FA', header: 'Requires 2FA', kind: 'boolean', width: 12 },
  { key: 'ipAddress', header: 'IP address', kind: 'string', width: 16 },
  { key: 'quality', header: 'Quality', kind: 'string', width: 10 },
  { key: 'livenessScore', header: 'Liveness score', kind: 'score', width: 14 },
  { key: 'livenessDetection', header: 'Liveness detection', kind: 'string', width: 18 },
  { key: 'identityMatch', header: 'Identity match', kind: 'string', width: 15 },
  { key: 'antiSpoofing', header: 'Anti-spoofing', kind: 'string', width: 14 },
  { key: 'qualityScore', header: 'Quality score', kind: 'score', width: 13 },
  { key: 'riskScore', header: 'Risk score', kind: 'score', width: 11 },
];

export const DETAIL_KEYS: readonly ColumnKey[] = DETAIL_COLUMNS.map((c) => c.key);

function instant(iso: string | null | undefined): number | null {
  if (iso == null) return null;
  const ms = parseInstant(iso);
  return Number.isNaN(ms) ? null : ms;
}

function num(n: number | null | undefined): number | null {
  return Number.isFinite(n) &&
    // Stryker disable next-line ConditionalExpression: Number.isFinite is already false for anything but a finite number (it does not coerce); the typeof only narrows the type
    typeof n === 'number'
    ? n
    : null;
}

/**
 * One record as a flat row. Object literal with every key in column order, so every row shares
 * one hidden class (the renderers read millions of them).
 */
export function flatten(r: BiometricValidation): FlatRow {
  const bio = r.biometricData;
  const res = r.verificationResults;
  return {
    id: r._id,
    createdAt: parseInstant(r.createdAt),
    updatedAt: instant(r.updatedAt),
    completedAt: instant(r.completedAt),
    expiresAt: instant(r.expiresAt),
    status: r.status,
    type: r.type ?? null,
    identifier: r.identifier ?? null,
    clientId: refId(r.client),
    clientName: refName(r.client),
    projectId: refId(r.project),
    projectName: refName(r.project),
    livenessSession: refId(r.livenessSession),
    requires2FA: r.requires2FA ?? null,
    ipAddress: r.ipAddress ?? null,
    quality: bio?.quality ?? null,
    livenessScore: num(bio?.livenessScore),
    livenessDetection: res?.livenessDetection ?? null,
    identityMatch: res?.identityMatch ?? null,
    antiSpoofing: res?.antiSpoofing ?? null,
    qualityScore: num(res?.qualityScore),
    riskScore: num(r.riskScore),
  };
}

/** Risk scores at or above this are "high": one constant shared by buckets and row marking. */
export const HIGH_RISK_THRESHOLD = 0.7;
/** Risk scores at or above this (and below high) are "medium". */
export const MEDIUM_RISK_THRESHOLD = 0.3;

export { CHECK_KEYS, type CheckKey };
/** Each check's readable name: its column's header, so sheets, mail and columns agree. */
export const CHECK_LABELS = Object.fromEntries(
  CHECK_KEYS.map((k) => [k, DETAIL_COLUMNS.find((c) => c.key === k)?.header ?? k]),
) as Record<CheckKey, string>;

/** A row people should look at first: the validation failed, or one of its checks did. */
export function isFailedRow(row: FlatRow): boolean {
  return (
    row.status === 'failed' ||
    row.livenessDetection === 'failed' ||
    row.identityMatch === 'failed' ||
    row.antiSpoofing === 'failed'
  );
}

/** The rows counted as high risk in the summary and marked so in the workbook. */
export function isHighRisk(row: FlatRow): boolean {
  // Stryker disable next-line ConditionalExpression: null >= 0.7 is false too; the check is for the type
  return row.riskScore !== null && row.riskScore >= HIGH_RISK_THRESHOLD;
}
