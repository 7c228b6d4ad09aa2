/**
 * The one-pass summary of a report: every figure people read first, computed while the records
 * stream past. Memory is bounded by the number of distinct keys (statuses, types, clients,
 * projects) and the fixed-size histograms, never by the number of rows.
 *
 * Conventions (also stated on the Summary sheet):
 * - A missing optional field is counted in `missing`, never as zero or "false".
 * - Check rates are shares of the validations where the check has a value (passed + failed +
 *   other); validations without the check are in `missing`.
 * - Quantiles are nearest-rank (see quantiles.ts) at the resolution documented there.
 */
import { z } from 'zod';
import { ZoneClock } from '../time/zone.js';
import { clip } from '../util/clip.js';
import { describeIssues } from '../util/zod-issues.js';
import type { BiometricValidation } from '../verifik/schema.js';
import {
  CHECK_KEYS,
  type CheckKey,
  DETAIL_KEYS,
  type FlatRow,
  flatten,
  HIGH_RISK_THRESHOLD,
  isFailedRow,
  isHighRisk,
  MEDIUM_RISK_THRESHOLD,
} from './columns.js';
import { type Distribution, DurationHistogram, type HistogramState, ScoreHistogram } from './quantiles.js';

export interface CountEntry {
  key: string;
  count: number;
  /** count / total validations. */
  share: number;
}

export interface PartyEntry {
  /** null: the record had no client (or project) reference. */
  id: string | null;
  /** The first populated name seen for this id; null when never populated. */
  name: string | null;
  count: number;
  failed: number;
  highRisk: number;
}

export interface HourEntry {
  hour: number;
  count: number;
  failed: number;
}

export interface CheckSummary {
  passed: number;
  failed: number;
  /** A value other than passed/failed (e.g. "pending", "inconclusive"). */
  other: number;
  missing: number;
  /** passed / (passed + failed + other); null when no validation has this check. */
  passRate: number | null;
  failRate: number | null;
}

export interface RiskEntry {
  id: string;
  createdAt: string;
  riskScore: number;
  status: string;
  type: string | null;
  identifier: string | null;
  clientId: string | null;
  clientName: string | null;
}

export interface Summary {
  timeZone: string;
  totals: {
    validations: number;
    /** Status, a failed check or both: the rows marked red in the workbook. */
    failed: number;
    highRisk: number;
  };
  /** Sorted by count (descending), then key. Open sets: unknown values appear as they came. */
  byStatus: CountEntry[];
  byType: CountEntry[];
  byClient: PartyEntry[];
  byProject: PartyEntry[];
  /** 24 entries, hour of `createdAt` in `timeZone`. */
  byHour: HourEntry[];
  checks: Record<CheckKey, CheckSummary>;
  scores: { livenessScore: Distribution; qualityScore: Distribution };
  risk: {
    thresholds: { medium: number; high: number };
    buckets: { low: number; medium: number; high: number };
    missing: number;
    /** Highest risk first; ties: earlier createdAt, then id. */
    top: RiskEntry[];
  };
  twoFactor: { required: number; notRequired: number; missing: number; share: number | null };
  completion: {
    /** Validations with both createdAt and a completedAt not before it. */
    count: number;
    /** completedAt earlier than createdAt: excluded from the figures, counted here. */
    negative: number;
    p50Ms: number | null;
    p95Ms: number | null;
    meanMs: number | null;
    maxMs: number | null;
    /** Relative error bound of p50/p95 (log-scale histogram). */
    relativeError: number;
  };
  /** Per optional field: how many validations did not have it. */
  missing: Record<string, number>;
}

/** Columns that may be missing, in column order. */
const OPTIONAL_KEYS = DETAIL_KEYS.filter((k) => k !== 'id' && k !== 'createdAt' && k !== 'status');

const NONE_KEY = '\u0000none';

interface PartyAcc {
  id: string | null;
  name: string | null;
  count: number;
  failed: number;
  highRisk: number;
}

function newCheck(): { passed: number; failed: number; other: number; missing: number } {
  return { passed: 0, failed: 0, other: 0, missing: 0 };
}

/** Bounded, deterministic "highest risk" list: kept sorted, best first. */
class TopRisk {
  private readonly rows: FlatRow[] = [];
  constructor(private readonly limit: number) {}

  /** True when `a` ranks before `b`. */
  private static before(a: FlatRow, b: FlatRow): boolean {
    const ra = a.riskScore ?? 0;
    const rb = b.riskScore ?? 0;
    // Stryker disable next-line EqualityOperator: only reached when the scores differ, so > and >= agree
    if (ra !== rb) return ra > rb;
    // Stryker disable next-line EqualityOperator: only reached when the instants differ, so < and <= agree
    if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt;
    // Stryker disable next-line EqualityOperator: ids are unique in a report (the read drops duplicates), so < and <= agree
    return a.id < b.id;
  }

  add(row: FlatRow): void {
    // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: a shortcut: with no room the row is inserted and popped again, and rows without a score never get here (add() and merged slices only pass scored rows)
    if (this.limit <= 0 || row.riskScore === null) return;
    const rows = this.rows;
    // Stryker disable next-line ArithmeticOperator: only feeds the shortcut below; without it the row is inserted and popped again
    const last = rows[rows.length - 1];
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a shortcut: a row that ranks after the last of a full list is inserted at its end and popped again
    if (rows.length >= this.limit && last && !TopRisk.before(row, last)) return;
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = rows[mid];
      if (m && TopRisk.before(m, row)) lo = mid + 1;
      else hi = mid;
    }
    rows.splice(lo, 0, row);
    if (rows.length > this.limit) rows.pop();
  }

  /** The kept rows, best first (a partial summary carries them for merging). */
  rowsKept(): FlatRow[] {
    return [...this.rows];
  }

  result(clock: ZoneClock): RiskEntry[] {
    return this.rows.map((r) => ({
      id: r.id,
      createdAt: clock.iso(r.createdAt),
      riskScore: r.riskScore ?? 0,
      status: r.status,
      type: r.type,
      identifier: r.identifier,
      clientId: r.clientId,
      clientName: r.clientName,
    }));
  }
}

function sortedCounts(map: Map<string, number>, total: number): CountEntry[] {
  // Statements, not one chain: a disable comment inside a chain attaches to no node and marks nothing.
  // Stryker disable next-line ConditionalExpression: with no validations there are no entries to divide
  const entries = [...map].map(([key, count]) => ({ key, count, share: total === 0 ? 0 : count / total }));
  // Keys of a map are distinct, so two entries never compare equal: no `0` branch to write.
  // Stryker disable next-line EqualityOperator: keys are distinct, so < and <= agree
  return entries.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
}

function sortedParties(map: Map<string, PartyAcc>): PartyEntry[] {
  return [...map.values()]
    .map((p) => ({ ...p }))
    .sort((a, b) => b.count - a.count || String(a.id).localeCompare(String(b.id)));
}

/**
 * A SummaryBuilder's whole state as plain JSON: what a slice of a long report stores so that the
 * slices' summaries merge into the one a single run over the whole window would compute
 * (`SummaryBuilder.merged`). Counts, bins and the highest-risk rows merge exactly; party names are
 * "first populated" in slice order, which is the single run's order when slices are passed in time
 * order; only the means' float sums are added in another order (last-bit differences).
 */
export interface SummaryState {
  timeZone: string;
  total: number;
  failed: number;
  highRisk: number;
  status: Array<[string, number]>;
  type: Array<[string, number]>;
  clients: PartyAcc[];
  projects: PartyAcc[];
  hours: HourEntry[];
  checks: Record<CheckKey, { passed: number; failed: number; other: number; missing: number }>;
  liveness: HistogramState;
  quality: HistogramState;
  buckets: { low: number; medium: number; high: number };
  top: FlatRow[];
  twoFa: { required: number; notRequired: number };
  completion: HistogramState;
  negativeCompletion: number;
  missing: Array<[string, number]>;
}

export class SummaryBuilder {
  readonly timeZone: string;
  private readonly clock: ZoneClock;
  private total = 0;
  private failed = 0;
  private highRisk = 0;
  private readonly status = new Map<string, number>();
  private readonly type = new Map<string, number>();
  private readonly clients = new Map<string, PartyAcc>();
  private readonly projects = new Map<string, PartyAcc>();
  private readonly hours = Array.from({ length: 24 }, (_, hour) => ({ hour, count: 0, failed: 0 }));
  private readonly checks = {
    livenessDetection: newCheck(),
    identityMatch: newCheck(),
    antiSpoofing: newCheck(),
  };
  private readonly liveness = new ScoreHistogram();
  private readonly quality = new ScoreHistogram();
  private readonly buckets = { low: 0, medium: 0, high: 0 };
  private readonly top: TopRisk;
  private readonly twoFa = { required: 0, notRequired: 0 };
  private readonly completion = new DurationHistogram();
  private negativeCompletion = 0;
  private readonly missing = new Map<string, number>(OPTIONAL_KEYS.map((k) => [k, 0]));

  constructor(opts: { timeZone: string; topRisk?: number }) {
    this.clock = new ZoneClock(opts.timeZone);
    this.timeZone = opts.timeZone;
    this.top = new TopRisk(opts.topRisk ?? 50);
  }

  /** Counts one record. Pass the already flattened row when you have it (saves a flatten). */
  add(r: BiometricValidation, row: FlatRow = flatten(r)): void {
    this.total++;
    const failed = isFailedRow(row);
    const high = isHighRisk(row);
    if (failed) this.failed++;
    if (high) this.highRisk++;

    this.status.set(row.status, (this.status.get(row.status) ?? 0) + 1);
    if (row.type !== null) this.type.set(row.type, (this.type.get(row.type) ?? 0) + 1);
    countParty(this.clients, row.clientId, row.clientName, failed, high);
    countParty(this.projects, row.projectId, row.projectName, failed, high);

    const hour = this.hours[this.clock.hourOf(row.createdAt)];
    // Stryker disable next-line ConditionalExpression: hourOf() is always 0-23, so the entry exists; the check is for the type
    if (hour) {
      hour.count++;
      if (failed) hour.failed++;
    }

    for (const key of CHECK_KEYS) {
      const value = row[key];
      const acc = this.checks[key];
      if (value === null) acc.missing++;
      else if (value === 'passed') acc.passed++;
      else if (value === 'failed') acc.failed++;
      else acc.other++;
    }

    if (row.livenessScore !== null) this.liveness.add(row.livenessScore);
    if (row.qualityScore !== null) this.quality.add(row.qualityScore);

    if (row.riskScore !== null) {
      if (row.riskScore >= HIGH_RISK_THRESHOLD) this.buckets.high++;
      else if (row.riskScore >= MEDIUM_RISK_THRESHOLD) this.buckets.medium++;
      else this.buckets.low++;
      this.top.add(row);
    }

    if (row.requires2FA === true) this.twoFa.required++;
    else if (row.requires2FA === false) this.twoFa.notRequired++;

    if (row.completedAt !== null) {
      const ms = row.completedAt - row.createdAt;
      if (ms < 0) this.negativeCompletion++;
      else this.completion.add(ms);
    }

    for (const key of OPTIONAL_KEYS) {
      if (row[key] === null) this.missing.set(key, (this.missing.get(key) ?? 0) + 1);
    }
  }

  /** This builder's state, for merging with other slices' (see SummaryState). */
  state(): SummaryState {
    return {
      timeZone: this.timeZone,
      total: this.total,
      failed: this.failed,
      highRisk: this.highRisk,
      status: [...this.status],
      type: [...this.type],
      clients: [...this.clients.values()].map((p) => ({ ...p })),
      projects: [...this.projects.values()].map((p) => ({ ...p })),
      hours: this.hours.map((h) => ({ ...h })),
      checks: structuredClone(this.checks),
      liveness: this.liveness.state(),
      quality: this.quality.state(),
      buckets: { ...this.buckets },
      top: this.top.rowsKept(),
      twoFa: { ...this.twoFa },
      completion: this.completion.state(),
      negativeCompletion: this.negativeCompletion,
      missing: [...this.missing],
    };
  }

  /** One builder holding every state's counts, the states given in time order (see SummaryState). */
  static merged(
    timeZone: string,
    states: readonly SummaryState[],
    opts: { topRisk?: number } = {},
  ): SummaryBuilder {
    const b = new SummaryBuilder({ timeZone, ...opts });
    for (const s of states) b.absorb(s);
    return b;
  }

  private absorb(s: SummaryState): void {
    if (s.timeZone !== this.timeZone) {
      throw new RangeError(`cannot merge a summary in ${s.timeZone} into one in ${this.timeZone}`);
    }
    this.total += s.total;
    this.failed += s.failed;
    this.highRisk += s.highRisk;
    for (const [k, n] of s.status) this.status.set(k, (this.status.get(k) ?? 0) + n);
    for (const [k, n] of s.type) this.type.set(k, (this.type.get(k) ?? 0) + n);
    absorbParties(this.clients, s.clients);
    absorbParties(this.projects, s.projects);
    for (const h of s.hours) {
      const mine = this.hours[h.hour];
      // Stryker disable next-line ConditionalExpression: a state's hours come from a builder's own 24 entries; the check is for the type
      if (mine) {
        mine.count += h.count;
        mine.failed += h.failed;
      }
    }
    for (const key of CHECK_KEYS) {
      const a = this.checks[key];
      const c = s.checks[key];
      a.passed += c.passed;
      a.failed += c.failed;
      a.other += c.other;
      a.missing += c.missing;
    }
    this.liveness.absorb(s.liveness);
    this.quality.absorb(s.quality);
    this.buckets.low += s.buckets.low;
    this.buckets.medium += s.buckets.medium;
    this.buckets.high += s.buckets.high;
    for (const row of s.top) this.top.add(row);
    this.twoFa.required += s.twoFa.required;
    this.twoFa.notRequired += s.twoFa.notRequired;
    this.completion.absorb(s.completion);
    this.negativeCompletion += s.negativeCompletion;
    for (const [k, n] of s.missing) this.missing.set(k, (this.missing.get(k) ?? 0) + n);
  }

  result(): Summary {
    const total = this.total;
    const checks = {} as Record<CheckKey, CheckSummary>;
    for (const key of CHECK_KEYS) {
      const c = this.checks[key];
      const evaluated = c.passed + c.failed + c.other;
      checks[key] = {
        ...c,
        passRate: evaluated === 0 ? null : c.passed / evaluated,
        failRate: evaluated === 0 ? null : c.failed / evaluated,
      };
    }
    const withTwoFa = this.twoFa.required + this.twoFa.notRequired;
    return {
      timeZone: this.timeZone,
      totals: { validations: total, failed: this.failed, highRisk: this.highRisk },
      byStatus: sortedCounts(this.status, total),
      byType: sortedCounts(this.type, total),
      byClient: sortedParties(this.clients),
      byProject: sortedParties(this.projects),
      byHour: this.hours.map((h) => ({ ...h })),
      checks,
      scores: { livenessScore: this.liveness.result(), qualityScore: this.quality.result() },
      risk: {
        thresholds: { medium: MEDIUM_RISK_THRESHOLD, high: HIGH_RISK_THRESHOLD },
        buckets: { ...this.buckets },
        missing: this.missing.get('riskScore') ?? 0,
        top: this.top.result(this.clock),
      },
      twoFactor: {
        required: this.twoFa.required,
        notRequired: this.twoFa.notRequired,
        missing: total - withTwoFa,
        share: withTwoFa === 0 ? null : this.twoFa.required / withTwoFa,
      },
      completion: {
        count: this.completion.count,
        negative: this.negativeCompletion,
        p50Ms: this.completion.quantile(0.5),
        p95Ms: this.completion.quantile(0.95),
        meanMs: this.completion.mean,
        maxMs: this.completion.max,
        relativeError: DurationHistogram.ALPHA,
      },
      missing: Object.fromEntries(this.missing),
    };
  }
}

function absorbParties(map: Map<string, PartyAcc>, from: readonly PartyAcc[]): void {
  for (const p of from) {
    const key = p.id ?? NONE_KEY;
    const acc = map.get(key);
    if (!acc) {
      map.set(key, { ...p });
      continue;
    }
    // As in countParty: the first name seen wins, and copying a null onto a null changes nothing.
    if (acc.name === null) acc.name = p.name;
    acc.count += p.count;
    acc.failed += p.failed;
    acc.highRisk += p.highRisk;
  }
}

function countParty(
  map: Map<string, PartyAcc>,
  id: string | null,
  name: string | null,
  failed: boolean,
  high: boolean,
): void {
  const key = id ?? NONE_KEY;
  let acc = map.get(key);
  if (!acc) {
    acc = { id, name, count: 0, failed: 0, highRisk: 0 };
    map.set(key, acc);
  } else if (acc.name === null) {
    // The first name seen wins; a null here leaves a null, so no test of `name` is needed.
    acc.name = name;
  }
  acc.count++;
  if (failed) acc.failed++;
  if (high) acc.highRisk++;
}

// ---------------------------------------------------------------------------------------------
// Comparison with the previous report

export interface Change {
  current: number | null;
  previous: number | null;
  /** current − previous; null when either side is unknown. */
  delta: number | null;
  /** delta / previous; null when previous is 0 or unknown. */
  relative: number | null;
}

export interface SummaryDelta {
  validations: Change;
  failed: Change;
  highRisk: Change;
  /** Union of both reports' statuses, in the current report's order, then the vanished ones. */
  byStatus: Array<{ key: string } & Change>;
  passRates: Record<CheckKey, Change>;
}

export function change(current: number | null, previous: number | null): Change {
  const delta = current === null || previous === null ? null : current - previous;
  // Stryker disable next-line ConditionalExpression: delta is null whenever previous is, so dropping the previous === null test changes nothing
  const relative = delta === null || previous === null || previous === 0 ? null : delta / previous;
  return { current, previous, delta, relative };
}

export function compareSummaries(current: Summary, previous: Summary): SummaryDelta {
  const prevStatus = new Map(previous.byStatus.map((e) => [e.key, e.count]));
  const seen = new Set<string>();
  const byStatus: SummaryDelta['byStatus'] = [];
  for (const e of current.byStatus) {
    seen.add(e.key);
    byStatus.push({ key: e.key, ...change(e.count, prevStatus.get(e.key) ?? 0) });
  }
  for (const e of previous.byStatus) {
    if (!seen.has(e.key)) byStatus.push({ key: e.key, ...change(0, e.count) });
  }
  const passRates = {} as Record<CheckKey, Change>;
  for (const key of CHECK_KEYS)
    passRates[key] = change(current.checks[key].passRate, previous.checks[key].passRate);
  return {
    validations: change(current.totals.validations, previous.totals.validations),
    failed: change(current.totals.failed, previous.totals.failed),
    highRisk: change(current.totals.highRisk, previous.totals.highRisk),
    byStatus,
    passRates,
  };
}

// ---------------------------------------------------------------------------------------------
// A previous summary read back from storage

const count = z.number().int().nonnegative();
const rate = z.number().min(0).max(1).nullable();

/**
 * What `compareSummaries` reads of the previous summary, and nothing more: a `summary.json` of an
 * older version may lack everything else. Checked where a stored summary is read back, because
 * it is data from outside this run (an older release wrote it, a write may have been cut short).
 */
const PreviousSummaryShape = z.object({
  totals: z.object({ validations: count, failed: count, highRisk: count }),
  byStatus: z.array(z.object({ key: z.string(), count })),
  checks: z.object({
    livenessDetection: z.object({ passRate: rate }),
    identityMatch: z.object({ passRate: rate }),
    antiSpoofing: z.object({ passRate: rate }),
  } satisfies Record<CheckKey, z.ZodType>),
});

export type PreviousSummaryRead = { ok: true; summary: Summary } | { ok: false; problem: string };

/**
 * A stored `summary.json` (its text) as a summary to compare with, or the reason it cannot be
 * one (not JSON, or not of the shape the comparison reads). Deltas are optional: callers treat a
 * refusal as "no previous report" and log the reason.
 */
export function readPreviousSummary(text: string): PreviousSummaryRead {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: `not valid JSON (${text.length} characters; a write cut short?)` };
  }
  const parsed = PreviousSummaryShape.safeParse(value);
  if (!parsed.success) {
    const problem = describeIssues(parsed.error, 'summary');
    return {
      ok: false,
      problem: `not a summary this version can compare with: ${clip(problem, 300)}`,
    };
  }
  // The fields compareSummaries reads are checked; the rest is never read from a previous summary.
  return { ok: true, summary: value as Summary };
}
