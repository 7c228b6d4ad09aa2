/**
 * Reads a list request's query string the way Verifik's backend module does, into a typed
 * query. Pure: no dataset, no HTTP. Everything the module would reject is a QueryError
 * (the server answers 400 INVALID_PARAMETERS); everything it does not know is ignored.
 */

export class QueryError extends Error {
  override name = 'QueryError';
}

export interface Bound {
  ms: number;
  /** `where>_` / `where<_` are strict; `where>=_` / `where<=_` are not. */
  strict: boolean;
}

export interface ListQuery {
  /** The backend only paginates when `page` or `offset` is present. */
  paginated: boolean;
  /** 1-based `page` as sent (1 when absent); the page an `offset` falls on depends on the served page size. */
  page: number;
  /** As requested (default 20); the server caps it. */
  perPage: number;
  /** `offset` when sent without `page` (the module ignores `offset` next to `page`). */
  offset: number | null;
  /** where_status ∩ in_status; null when neither was sent. */
  statuses: string[] | null;
  type?: string;
  client?: string;
  project?: string;
  livenessSession?: string;
  lower: Bound[];
  upper: Bound[];
  sort: 'asc' | 'desc';
  populate: { client: boolean; project: boolean };
}

export const DEFAULT_PER_PAGE = 20;

/** Parameters that take one value; sending one twice makes the module's parser produce an array it rejects. */
const SCALARS = new Set([
  'page',
  'perPage',
  'offset',
  'sort',
  'where_client',
  'where_status',
  'where_type',
  'where_project',
  'where_livenessSession',
  'where>_createdAt',
  'where>=_createdAt',
  'where<_createdAt',
  'where<=_createdAt',
]);

/** `name`, `name[]` and `name[3]` all mean the array parameter `name` (as the `qs` parser reads them). */
function arrayBase(key: string): string {
  const m = /^(.*?)\[\d*\]$/.exec(key);
  return m ? m[1]! : key;
}

/** The values of array parameter `base` in any of its wire forms, in order. */
function arrayValues(params: URLSearchParams, base: string): string[] | null {
  const out: string[] = [];
  let seen = false;
  for (const [key, value] of params) {
    if (arrayBase(key) === base) {
      seen = true;
      out.push(value);
    }
  }
  return seen ? out : null;
}

function positiveInt(name: string, value: string, min: number): number {
  if (!/^\d+$/.test(value)) throw new QueryError(`${name} must be an integer, got "${value}".`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min)
    throw new QueryError(`${name} must be at least ${min}, got "${value}".`);
  return n;
}

/**
 * The module reads a string of 10+ characters that parses as a date as a date. A date-time
 * without an offset is read as UTC here (the backend runs in UTC), never in this machine's zone.
 */
export function parseDateParam(name: string, value: string): number {
  if (value.length < 10) throw new QueryError(`${name} must be a date (10+ characters), got "${value}".`);
  const local = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value);
  const ms = Date.parse(local ? `${value}Z` : value);
  if (Number.isNaN(ms)) throw new QueryError(`${name} is not a date: "${value}".`);
  return ms;
}

export function parseListQuery(params: URLSearchParams): ListQuery {
  const one = new Map<string, string>();
  for (const [key, value] of params) {
    if (!SCALARS.has(key)) continue;
    if (one.has(key)) throw new QueryError(`${key} was sent more than once.`);
    one.set(key, value);
  }
  const pageRaw = one.get('page');
  const offsetRaw = one.get('offset');
  const perPageRaw = one.get('perPage');
  const perPage = perPageRaw === undefined ? DEFAULT_PER_PAGE : positiveInt('perPage', perPageRaw, 1);
  const page = pageRaw === undefined ? 1 : positiveInt('page', pageRaw, 1);
  const offset =
    pageRaw === undefined && offsetRaw !== undefined ? positiveInt('offset', offsetRaw, 0) : null;

  let statuses: string[] | null = null;
  const whereStatus = one.get('where_status');
  if (whereStatus !== undefined) statuses = [whereStatus];
  const inStatus = arrayValues(params, 'in_status');
  if (inStatus !== null)
    statuses = statuses ? statuses.filter((s) => inStatus.includes(s)) : [...new Set(inStatus)];

  const lower: Bound[] = [];
  const upper: Bound[] = [];
  for (const [key, list, strict] of [
    ['where>_createdAt', lower, true],
    ['where>=_createdAt', lower, false],
    ['where<_createdAt', upper, true],
    ['where<=_createdAt', upper, false],
  ] as const) {
    const v = one.get(key);
    if (v !== undefined) list.push({ ms: parseDateParam(key, v), strict });
  }

  const sortRaw = one.get('sort') ?? '-createdAt';
  let sort: 'asc' | 'desc';
  // ObjectIds start with their creation second, so `_id` order is createdAt order here.
  if (sortRaw === 'createdAt' || sortRaw === '_id') sort = 'asc';
  else if (sortRaw === '-createdAt' || sortRaw === '-_id') sort = 'desc';
  else throw new QueryError(`sort must be createdAt or -createdAt, got "${sortRaw}".`);

  const populates = arrayValues(params, 'populates') ?? [];
  const query: ListQuery = {
    paginated: pageRaw !== undefined || offsetRaw !== undefined,
    page,
    perPage,
    offset,
    statuses,
    lower,
    upper,
    sort,
    populate: { client: populates.includes('client'), project: populates.includes('project') },
  };
  const type = one.get('where_type');
  if (type !== undefined) query.type = type;
  const client = one.get('where_client');
  if (client !== undefined) query.client = client;
  const project = one.get('where_project');
  if (project !== undefined) query.project = project;
  const session = one.get('where_livenessSession');
  if (session !== undefined) query.livenessSession = session;
  return query;
}

/** Drops the parameters a misbehaving server would not apply. `in_status[]` also drops `in_status` and `in_status[0]`. */
export function withoutParams(params: URLSearchParams, ignore: readonly string[]): URLSearchParams {
  if (ignore.length === 0) return params;
  const ignored = new Set(ignore.map(arrayBase));
  const kept = new URLSearchParams();
  for (const [key, value] of params) {
    if (!ignored.has(key) && !ignored.has(arrayBase(key))) kept.append(key, value);
  }
  return kept;
}
