/**
 * A deterministic, memory-lean dataset of biometric validations for the fake Verifik API.
 *
 * Only the sorted `createdAt` instants are stored (one Float64Array); every other field of
 * record i is recomputed from (seed, i) on demand, so a million records cost about 8 MB.
 * `insert` adds materialised records (drift while a report reads) and keeps createdAt order.
 */
import { ZoneClock } from '../../functions/time/zone.js';
import { type BiometricValidation, refId } from '../../functions/verifik/schema.js';
import { cumulate, hex, isoString, mix, pickWeighted, Rng } from './prng.js';
import {
  CLIENT_DOMAINS,
  CLIENT_NAMES,
  FINISHED,
  FIRST_NAMES,
  FORMULA_LIKE,
  HOUR_CURVE,
  LANGUAGES,
  LAST_NAMES,
  MAIL_DOMAINS,
  PHONE_PLANS,
  PROJECT_DESCRIPTIONS,
  PROJECT_NAMES,
  QUALITIES,
  STATUS_WEIGHTS,
  STATUSES,
  TYPE_WEIGHTS,
  TYPES,
} from './vocabulary.js';

export interface DatasetOptions {
  seed: number;
  start: Date;
  end: Date;
  count: number;
  /** Number of API clients (tenants); default 4, at most 8. */
  clients?: number;
  /** Projects per client; default 2–3 depending on the seed. */
  projectsPerClient?: number;
  /** Zone whose wall clock drives the hour-of-day activity curve; default America/Bogota. */
  timeZone?: string;
}

export interface ClientInfo {
  _id: string;
  name: string;
  email: string;
}
export interface ProjectInfo {
  _id: string;
  name: string;
  clientId: string;
  description: string;
}

/** The fields the server filters on, computed without materialising the record. */
export interface RecordFacets {
  status: string;
  type: string | null;
  client: string | null;
  project: string | null;
  livenessSession: string | null;
}

export interface Dataset {
  /** Records currently in the dataset (including inserted ones). */
  readonly size: number;
  readonly start: Date;
  readonly end: Date;
  /** Bumped by every `insert`: anything derived from the record order must be rebuilt. */
  readonly version: number;
  /** Record i in ascending createdAt order, client/project populated. Do not mutate. */
  record(i: number): BiometricValidation;
  createdAtMs(i: number): number;
  facets(i: number): RecordFacets;
  [Symbol.iterator](): Iterator<BiometricValidation>;
  /** Adds records (kept in createdAt order; ties go after existing records). */
  insert(records: BiometricValidation[]): void;
  /** Makes `count` new records with fresh unique ids, createdAt uniform in [start, end); does not insert them. */
  generate(count: number, start?: Date, end?: Date): BiometricValidation[];
  clients: ClientInfo[];
  projects: ProjectInfo[];
}

export class DatasetError extends Error {
  override name = 'DatasetError';
}

/** ObjectId counters are 24 bits. */
const MAX_COUNT = 0xffffff;
const QUARTER_HOUR = 900_000;
const STATUS_CUM = cumulate(STATUS_WEIGHTS);
const TYPE_CUM = cumulate(TYPE_WEIGHTS);
const PHONE_CUM = cumulate(PHONE_PLANS.map((p) => p.weight));

/** A Mongo-like ObjectId: 4-byte seconds, 5-byte "machine", 3-byte counter; unique per (machine, counter). */
function objectId(ms: number, machineHi: number, machineLo: number, counter: number): string {
  return hex(Math.floor(ms / 1000), 8) + hex(machineHi, 2) + hex(machineLo, 8) + hex(counter, 6);
}

/** Inverse CDF of the hour-of-day curve over [start, end), in quarter-hour pieces. */
class ActivityCurve {
  private readonly edges: number[] = [];
  private readonly cum: number[] = [0];

  constructor(startMs: number, endMs: number, clock: ZoneClock) {
    let t = startMs;
    this.edges.push(t);
    let total = 0;
    while (t < endMs) {
      const next = Math.min(endMs, (Math.floor(t / QUARTER_HOUR) + 1) * QUARTER_HOUR);
      total += (next - t) * HOUR_CURVE[clock.hourOf(t)]!;
      this.edges.push(next);
      this.cum.push(total);
      t = next;
    }
  }

  /** The instant below which a fraction x ∈ [0,1) of the activity falls. Monotone in x. */
  at(x: number): number {
    const target = x * this.cum[this.cum.length - 1]!;
    let lo = 0;
    let hi = this.cum.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (this.cum[mid]! <= target) lo = mid;
      else hi = mid;
    }
    const c0 = this.cum[lo]!;
    const span = this.cum[hi]! - c0;
    const e0 = this.edges[lo]!;
    return e0 + (span > 0 ? ((target - c0) / span) * (this.edges[hi]! - e0) : 0);
  }
}

/**
 * Sorted instants with the curve's density: exponential spacings normalised by their sum are
 * the order statistics of uniform draws (so arrivals cluster like a Poisson process), mapped
 * through the inverse CDF; sorted by construction, no sort needed.
 */
function generateTimes(seed: number, count: number, curve: ActivityCurve): Float64Array {
  const times = new Float64Array(count);
  const rng = new Rng(mix(seed, 0x71ae));
  let acc = 0;
  for (let i = 0; i < count; i++) {
    acc -= Math.log(1 - rng.next());
    times[i] = acc;
  }
  const total = acc - Math.log(1 - rng.next());
  for (let i = 0; i < count; i++) times[i] = Math.floor(curve.at(times[i]! / total));
  return times;
}

/** The "machine" parts of the ObjectIds minted for one family of records and their liveness sessions. */
interface IdSpace {
  hi: number;
  lo: number;
  sessionHi: number;
  sessionLo: number;
}

class GeneratedDataset implements Dataset {
  readonly start: Date;
  readonly end: Date;
  readonly clients: ClientInfo[] = [];
  readonly projects: ProjectInfo[] = [];
  private readonly seed: number;
  private readonly baseTimes: Float64Array;
  private readonly clientCum: number[];
  private readonly projectsOf = new Map<string, ProjectInfo[]>();
  private readonly recordIds: IdSpace;
  private readonly freshIds: IdSpace;
  /** After the first insert: merged order; source[i] ≥ 0 is a generated index, < 0 is extras[-source[i] - 1]. */
  private merged: { times: Float64Array; source: Int32Array } | null = null;
  private readonly extras: BiometricValidation[] = [];
  private readonly extraIds = new Set<string>();
  private freshCounter = 0;
  private _version = 0;

  constructor(opts: DatasetOptions) {
    const { seed, count } = opts;
    const startMs = opts.start.getTime();
    const endMs = opts.end.getTime();
    if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs <= startMs) {
      throw new DatasetError('The dataset window needs valid dates with start < end.');
    }
    if (!Number.isInteger(count) || count < 0 || count > MAX_COUNT) {
      throw new DatasetError(`count must be an integer in [0, ${MAX_COUNT}], got ${count}.`);
    }
    const clientCount = opts.clients ?? 4;
    if (!Number.isInteger(clientCount) || clientCount < 1 || clientCount > CLIENT_NAMES.length) {
      throw new DatasetError(
        `clients must be an integer in [1, ${CLIENT_NAMES.length}], got ${clientCount}.`,
      );
    }
    this.seed = seed | 0;
    this.start = new Date(startMs);
    this.end = new Date(endMs);
    this.recordIds = {
      hi: mix(seed, 1) & 0xff,
      lo: mix(seed, 2),
      sessionHi: mix(seed, 3) & 0xff,
      sessionLo: mix(seed, 4),
    };
    // Fresh records get their own machine parts, so their ids never collide with generated ones.
    this.freshIds = {
      hi: (this.recordIds.hi + 1) & 0xff,
      lo: mix(seed, 6),
      sessionHi: (this.recordIds.sessionHi + 1) & 0xff,
      sessionLo: mix(seed, 7),
    };
    this.buildTenants(clientCount, opts.projectsPerClient, startMs);
    // Uneven client sizes: the first client is the busiest, like real tenants.
    this.clientCum = cumulate(this.clients.map((_, k) => 1 / (k + 1)));
    const curve = new ActivityCurve(startMs, endMs, new ZoneClock(opts.timeZone ?? 'America/Bogota'));
    this.baseTimes = generateTimes(this.seed, count, curve);
  }

  private buildTenants(clientCount: number, projectsPerClient: number | undefined, startMs: number): void {
    const createdMs = startMs - 400 * 86_400_000;
    const machine = { hi: mix(this.seed, 8) & 0xff, lo: mix(this.seed, 9) };
    for (let k = 0; k < clientCount; k++) {
      const name = CLIENT_NAMES[k]!;
      const _id = objectId(createdMs, machine.hi, machine.lo, k);
      this.clients.push({ _id, name, email: `soporte@${CLIENT_DOMAINS[k]!}` });
      const n = projectsPerClient ?? 2 + (mix(this.seed, 10, k) % 2);
      if (!Number.isInteger(n) || n < 1 || n > 64)
        throw new DatasetError(`projectsPerClient must be in [1, 64], got ${n}.`);
      const own: ProjectInfo[] = [];
      this.projectsOf.set(_id, own);
      for (let p = 0; p < n; p++) {
        const v = (k + p) % PROJECT_NAMES.length;
        own.push({
          _id: objectId(createdMs + 86_400_000, machine.hi, machine.lo, 0x1000 + k * 64 + p),
          name: PROJECT_NAMES[v]!,
          clientId: _id,
          description: PROJECT_DESCRIPTIONS[v]!,
        });
      }
      this.projects.push(...own);
    }
  }

  get size(): number {
    return this.merged ? this.merged.times.length : this.baseTimes.length;
  }

  get version(): number {
    return this._version;
  }

  createdAtMs(i: number): number {
    this.check(i);
    return this.merged ? this.merged.times[i]! : this.baseTimes[i]!;
  }

  record(i: number): BiometricValidation {
    this.check(i);
    const s = this.merged ? this.merged.source[i]! : i;
    if (s < 0) return this.extras[-s - 1]!;
    return this.build(mix(this.seed, s), this.baseTimes[s]!, this.recordIds, s);
  }

  facets(i: number): RecordFacets {
    this.check(i);
    const s = this.merged ? this.merged.source[i]! : i;
    if (s < 0) {
      const r = this.extras[-s - 1]!;
      return {
        status: r.status,
        type: r.type ?? null,
        client: refId(r.client),
        project: refId(r.project),
        livenessSession: refId(r.livenessSession),
      };
    }
    const d = this.draw(new Rng(mix(this.seed, s)));
    return {
      status: d.status,
      type: d.type,
      client: d.client._id,
      project: d.project._id,
      livenessSession: d.hasSession
        ? objectId(this.baseTimes[s]!, this.recordIds.sessionHi, this.recordIds.sessionLo, s)
        : null,
    };
  }

  *[Symbol.iterator](): Iterator<BiometricValidation> {
    for (let i = 0; i < this.size; i++) yield this.record(i);
  }

  insert(records: BiometricValidation[]): void {
    if (records.length === 0) return;
    const incoming = records.map((r) => {
      const ms = Date.parse(r.createdAt);
      if (Number.isNaN(ms))
        throw new DatasetError(`Cannot insert record ${r._id}: createdAt "${r.createdAt}" is not a date.`);
      if (this.extraIds.has(r._id))
        throw new DatasetError(`Cannot insert record ${r._id}: that _id is already inserted.`);
      this.extraIds.add(r._id);
      return { ms, r };
    });
    incoming.sort((a, b) => a.ms - b.ms);
    const oldSize = this.size;
    const times = new Float64Array(oldSize + incoming.length);
    const source = new Int32Array(oldSize + incoming.length);
    let o = 0;
    let out = 0;
    for (const { ms, r } of incoming) {
      // Existing records with the same instant stay first: an insert never moves older rows back.
      while (o < oldSize && this.createdAtMs(o) <= ms) {
        times[out] = this.createdAtMs(o);
        source[out++] = this.merged ? this.merged.source[o]! : o;
        o++;
      }
      this.extras.push(r);
      times[out] = ms;
      source[out++] = -this.extras.length;
    }
    for (; o < oldSize; o++) {
      times[out] = this.createdAtMs(o);
      source[out++] = this.merged ? this.merged.source[o]! : o;
    }
    this.merged = { times, source };
    this._version++;
  }

  generate(count: number, start: Date = this.start, end: Date = this.end): BiometricValidation[] {
    const lo = start.getTime();
    const span = end.getTime() - lo;
    if (!(span > 0)) throw new DatasetError('generate() needs start < end.');
    const out: BiometricValidation[] = [];
    for (let j = 0; j < count; j++) {
      const n = this.freshCounter++;
      const key = mix(this.seed, 0xfeed, n);
      const ms = lo + Math.floor(new Rng(key ^ 0x5bd1e995).next() * span);
      out.push(this.build(key, ms, this.freshIds, n));
    }
    return out;
  }

  private check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) {
      throw new RangeError(`Record index ${i} is outside [0, ${this.size}).`);
    }
  }

  /** The first draws of a record's stream: everything the server may filter on. Order is part of the format. */
  private draw(rng: Rng) {
    const status = STATUSES[pickWeighted(STATUS_CUM, rng.next())]!;
    const t = pickWeighted(TYPE_CUM, rng.next());
    const type = t < TYPES.length ? TYPES[t]! : null;
    const client = this.clients[pickWeighted(this.clientCum, rng.next())]!;
    const own = this.projectsOf.get(client._id)!;
    const project = own[Math.floor(rng.next() * own.length)]!;
    const uSession = rng.next();
    const hasSession = type === 'liveness' || type === 'onboarding' ? uSession < 0.8 : uSession < 0.05;
    return { status, type, client, project, hasSession };
  }

  private build(key: number, createdMs: number, ids: IdSpace, counter: number) {
    const rng = new Rng(key);
    const d = this.draw(rng);
    const finished = FINISHED.has(d.status);
    const failed = d.status === 'failed';
    const r: Record<string, unknown> = {
      _id: objectId(createdMs, ids.hi, ids.lo, counter),
      client: { _id: d.client._id, name: d.client.name, email: d.client.email },
      project: { _id: d.project._id, name: d.project.name, description: d.project.description },
      status: d.status,
    };
    const identifier = this.identifier(rng);
    if (identifier !== undefined) r.identifier = identifier;
    if (d.type !== null) r.type = d.type;
    else if (rng.chance(0.5)) r.type = null;
    const expiresMs = createdMs + (d.type === 'oneTimeLink' ? 86_400_000 : 3_600_000);
    r.expiresAt = isoString(expiresMs);
    if (rng.chance(0.98)) r.requires2FA = rng.chance(0.15);
    const ip = this.ipAddress(rng);
    if (ip !== undefined) r.ipAddress = ip;
    const hasResults = finished || d.status === 'under_review';
    if (hasResults) {
      const u = rng.next();
      if (u < 0.05) r.biometricData = null;
      else if (u < 0.95) {
        const bio: Record<string, unknown> = {
          livenessScore: failed ? rng.score(0.05, 0.6) : rng.score(0.7, 1),
        };
        if (rng.chance(0.95)) bio.quality = failed ? rng.pick(['fair', 'poor']) : rng.pick(QUALITIES);
        r.biometricData = bio;
      }
      r.verificationResults = rng.chance(0.03) ? null : this.results(rng, failed, d.type === 'liveness');
      r.riskScore = failed ? rng.score(0.55, 0.99) : finished ? rng.score(0.01, 0.3) : rng.score(0.4, 0.7);
    } else {
      if (rng.chance(0.4)) r.biometricData = null;
      if (rng.chance(0.4)) r.verificationResults = null;
      const u = rng.next();
      if (u < 0.5) r.riskScore = null;
      else if (u < 0.8) r.riskScore = rng.score(0.1, 0.5);
    }
    r.createdAt = isoString(createdMs);
    let completedMs: number | null = null;
    if (finished && rng.chance(0.97)) {
      // Seconds to minutes: most checks finish within a minute or two, a long tail up to ~20 min.
      completedMs = createdMs + Math.min(1_200_000, Math.round(5_000 - Math.log(1 - rng.next()) * 60_000));
    }
    const updatedMs = completedMs ?? (d.status === 'expired' ? expiresMs : createdMs + rng.int(30_000));
    r.updatedAt = isoString(updatedMs);
    if (completedMs !== null) r.completedAt = isoString(completedMs);
    else if (finished) r.completedAt = null;
    if (d.hasSession) r.livenessSession = objectId(createdMs, ids.sessionHi, ids.sessionLo, counter);
    else if (rng.chance(0.3)) r.livenessSession = null;
    if (rng.chance(0.7)) r.language = rng.pick(LANGUAGES);
    r.__v = 0;
    return r as BiometricValidation;
  }

  private identifier(rng: Rng): string | null | undefined {
    const u = rng.next();
    if (u < 0.005) return null;
    if (u < 0.01) return undefined;
    if (u < 0.016) return rng.pick(FORMULA_LIKE);
    if (u < 0.56) {
      const first = rng.pick(FIRST_NAMES);
      const last = rng.pick(LAST_NAMES);
      const sep = rng.pick(['.', '_', '', '-']);
      const num = rng.chance(0.4) ? String(rng.int(100)) : '';
      return `${first}${sep}${last}${num}@${rng.pick(MAIL_DOMAINS)}`;
    }
    const plan = PHONE_PLANS[pickWeighted(PHONE_CUM, rng.next())]!;
    let digits = plan.prefix === '+57' ? '3' : String(1 + rng.int(9));
    while (digits.length < plan.digits) digits += String(rng.int(10));
    const style = rng.int(3);
    if (style === 0) return `${plan.prefix}${digits}`;
    if (style === 1) return `${plan.prefix} ${digits.slice(0, 3)} ${digits.slice(3, 6)} ${digits.slice(6)}`;
    return `${plan.prefix}-${digits.slice(0, 3)}-${digits.slice(3)}`;
  }

  private ipAddress(rng: Rng): string | null | undefined {
    const u = rng.next();
    if (u < 0.04) return undefined;
    if (u < 0.06) return null;
    if (u < 0.18) {
      const groups = Array.from({ length: 4 }, () => rng.int(0x10000).toString(16));
      return `2800:${rng.pick(['e2', '484', '3f0', '810'])}:${groups.join(':')}::${rng.int(0x10000).toString(16)}`;
    }
    const a = rng.pick([190, 181, 186, 200, 201, 152, 10, 192]);
    const b = a === 192 ? 168 : rng.int(256);
    return `${a}.${b}.${rng.int(256)}.${1 + rng.int(254)}`;
  }

  private results(rng: Rng, failed: boolean, livenessOnly: boolean): Record<string, unknown> {
    const res: Record<string, unknown> = {};
    const outcome = (pFail: number) => (rng.chance(pFail) ? 'failed' : 'passed');
    if (rng.chance(0.97)) res.livenessDetection = outcome(failed ? 0.6 : 0.01);
    if (!livenessOnly && rng.chance(0.97)) res.identityMatch = outcome(failed ? 0.5 : 0.02);
    if (rng.chance(0.97)) res.qualityScore = failed ? rng.score(0.2, 0.7) : rng.score(0.6, 1);
    if (rng.chance(0.97)) res.antiSpoofing = outcome(failed ? 0.3 : 0.005);
    return res;
  }
}

export function createDataset(opts: DatasetOptions): Dataset {
  return new GeneratedDataset(opts);
}
