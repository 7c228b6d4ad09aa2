/**
 * Validation of the reports API's inputs. Every problem is reported with the field it concerns,
 * all at once, so a client fixes its request in one round. A value is echoed at most ECHO_LIMIT
 * characters long and a field's problems at most a few times: a 5 MB value gets a small 400.
 */
import { z } from 'zod';
import { DAY_PATTERN, disallowedRecipients, MAX_RECIPIENTS, REPORT_ID } from '../contract.js';
import type { OnDemandRequest } from '../runs/worker-payload.js';
import { ReportFormat } from '../settings/definitions.js';
import {
  daysBetween,
  MAX_RANGE_DAYS,
  parseDay,
  tooEarlyDayProblem,
  unfinishedDayProblem,
  yesterday,
} from '../time/window.js';
import { assertTimeZone } from '../time/zone.js';
import type { FieldError } from './http.js';

/** The formats the worker renders (and, without `formats`, all of them). */
const FORMATS = ReportFormat.options;
/** Statuses, types and client ids travel into Verifik query strings: keep them plain. */
const TOKEN = /^[A-Za-z0-9_.:-]{1,64}$/;

const tokenList = (what: string) =>
  z
    .array(z.string().regex(TOKEN, `each ${what} must be 1–64 letters, digits, "_", ".", ":" or "-"`), {
      error: `must be an array of ${what} strings`,
    })
    .max(20, `at most 20 ${what} values`);

/** One schema per field, so every bad field is reported, not only the first one zod meets. */
const FIELDS = {
  date: z.string({ error: 'must be a string YYYY-MM-DD' }),
  from: z.string({ error: 'must be a string YYYY-MM-DD' }),
  to: z.string({ error: 'must be a string YYYY-MM-DD' }),
  timeZone: z.string({ error: 'must be an IANA time zone such as "America/Bogota"' }),
  statuses: tokenList('status'),
  types: tokenList('type'),
  client: z
    .string({ error: 'must be a client id string' })
    .regex(TOKEN, 'must be a client id (letters, digits, "_", ".", ":" or "-")'),
  formats: z
    .array(z.enum(FORMATS, { error: `unknown format: use ${FORMATS.map((f) => `"${f}"`).join(' or ')}` }), {
      error: 'must be an array such as ["xlsx", "csv"]',
    })
    .min(1, 'at least one format'),
  notify: z
    .array(z.email({ error: 'not an email address' }), { error: 'must be an array of email addresses' })
    .max(MAX_RECIPIENTS, `at most ${MAX_RECIPIENTS} recipients`),
} as const;

type Fields = { [K in keyof typeof FIELDS]?: z.infer<(typeof FIELDS)[K]> };

/** How much of a caller's value a message echoes: enough to recognise it, never the whole of a 5 MB one. */
export const ECHO_LIMIT = 60;
/** Problems reported per field (an array of a million bad values is one problem, said a few times). */
const PROBLEMS_PER_FIELD = 5;
/** Unknown fields or parameters named, at most. */
const UNKNOWN_NAMED = 10;

/** `value` as messages quote it: at most ECHO_LIMIT characters, then "…". */
export function echo(value: string): string {
  if (value.length <= ECHO_LIMIT) return `"${value}"`;
  // Whole code points, so an emoji is never cut in half.
  return `"${Array.from(value.slice(0, 2 * ECHO_LIMIT + 2))
    .slice(0, ECHO_LIMIT)
    .join('')}…"`;
}

/** A field name as problems name it: a caller's unknown key is capped like any value it sent. */
function fieldName(key: string): string {
  return key.length <= ECHO_LIMIT ? key : echo(key).slice(1, -1);
}

/** Reports unknown names, at most UNKNOWN_NAMED of them, then how many more there were. */
function unknownNames(where: 'body' | 'query', keys: string[], message: string, errors: FieldError[]): void {
  for (const key of keys.slice(0, UNKNOWN_NAMED)) errors.push({ field: fieldName(key), message });
  if (keys.length > UNKNOWN_NAMED) {
    errors.push({ field: where, message: `and ${keys.length - UNKNOWN_NAMED} more: ${message}` });
  }
}

type FieldsOf<S extends Record<string, z.ZodType>> = { [K in keyof S]?: z.infer<S[K]> };

function readFields(body: unknown, errors: FieldError[]): Fields | null;
function readFields<S extends Record<string, z.ZodType>>(
  body: unknown,
  errors: FieldError[],
  fields: S,
): FieldsOf<S> | null;
function readFields(
  body: unknown,
  errors: FieldError[],
  fields: Record<string, z.ZodType> = FIELDS,
): Record<string, unknown> | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    errors.push({ field: 'body', message: 'must be a JSON object' });
    return null;
  }
  const raw = body as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  unknownNames(
    'body',
    Object.keys(raw).filter((key) => !Object.hasOwn(fields, key)),
    'unknown field',
    errors,
  );
  for (const [key, schema] of Object.entries(fields)) {
    if (raw[key] === undefined) continue;
    const parsed = (schema as z.ZodType).safeParse(raw[key]);
    if (parsed.success) out[key] = parsed.data;
    else {
      const issues = parsed.error.issues;
      for (const issue of issues.slice(0, PROBLEMS_PER_FIELD)) {
        errors.push({ field: [key, ...issue.path.map(String)].join('.'), message: issue.message });
      }
      if (issues.length > PROBLEMS_PER_FIELD) {
        errors.push({
          field: key,
          message: `and ${issues.length - PROBLEMS_PER_FIELD} more problems like these`,
        });
      }
    }
  }
  return out;
}

function checkDay(field: string, value: string, errors: FieldError[]): boolean {
  if (!DAY_PATTERN.test(value)) {
    errors.push({ field, message: `${echo(value)} is not a date: use YYYY-MM-DD` });
    return false;
  }
  try {
    parseDay(value);
    return true;
  } catch (err) {
    errors.push({ field, message: (err as Error).message });
    return false;
  }
}

/** Refuses, by name, the recipients outside the allowed domains. */
function checkAllowed(
  field: string,
  recipients: readonly string[],
  allowedDomains: readonly string[],
  errors: FieldError[],
): void {
  const refused = disallowedRecipients(recipients, allowedDomains);
  if (refused.length > 0) {
    errors.push({
      field,
      message: `not in an allowed recipient domain: ${refused
        .slice(0, UNKNOWN_NAMED)
        .map((a) => echo(a).slice(1, -1))
        .join(', ')}${refused.length > UNKNOWN_NAMED ? ` and ${refused.length - UNKNOWN_NAMED} more` : ''}`,
    });
  }
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** Validates a `POST /reports` body into the worker's request (window days resolved). */
export function parseReportRequest(
  body: unknown,
  ctx: { allowedDomains: readonly string[]; now: Date },
): Parsed<OnDemandRequest> {
  if (body === undefined)
    return { ok: false, errors: [{ field: 'body', message: 'a JSON body is required' }] };
  const errors: FieldError[] = [];
  const b = readFields(body, errors);
  if (!b) return { ok: false, errors };

  let zone: string | undefined;
  if (b.timeZone === undefined) {
    if (!errors.some((e) => e.field === 'timeZone')) {
      errors.push({ field: 'timeZone', message: 'required: an IANA time zone such as "America/Bogota"' });
    }
  } else {
    try {
      zone = assertTimeZone(b.timeZone);
    } catch {
      errors.push({
        field: 'timeZone',
        message: `unknown time zone ${echo(b.timeZone)}: use an IANA name such as "America/Bogota"`,
      });
    }
  }

  let from: string | undefined;
  let to: string | undefined;
  if (b.date !== undefined) {
    if (b.from !== undefined)
      errors.push({ field: 'from', message: 'give either date, or from and to, not both' });
    if (b.to !== undefined)
      errors.push({ field: 'to', message: 'give either date, or from and to, not both' });
    if (checkDay('date', b.date, errors)) from = to = b.date;
  } else if (b.from !== undefined || b.to !== undefined) {
    if (b.from === undefined) errors.push({ field: 'from', message: 'required with to' });
    if (b.to === undefined) errors.push({ field: 'to', message: 'required with from' });
    const fromOk = b.from !== undefined && checkDay('from', b.from, errors);
    const toOk = b.to !== undefined && checkDay('to', b.to, errors);
    if (fromOk && toOk && b.from && b.to) {
      const days = daysBetween(b.from, b.to);
      if (days < 1) errors.push({ field: 'to', message: `${b.to} is before from (${b.from})` });
      else if (days > MAX_RANGE_DAYS) {
        errors.push({
          field: 'to',
          message: `the range is ${days} days; at most ${MAX_RANGE_DAYS} are allowed`,
        });
      } else {
        from = b.from;
        to = b.to;
      }
    }
  } else if (zone) {
    from = to = yesterday(zone, ctx.now);
  }
  const tooEarly = from !== undefined ? tooEarlyDayProblem(from) : null;
  if (tooEarly) errors.push({ field: b.date !== undefined ? 'date' : 'from', message: tooEarly });
  const unfinished = zone && to !== undefined ? unfinishedDayProblem(to, zone, ctx.now) : null;
  if (unfinished) errors.push({ field: b.date !== undefined ? 'date' : 'to', message: unfinished });

  const notify = [...new Set(b.notify ?? [])];
  checkAllowed('notify', notify, ctx.allowedDomains, errors);

  if (errors.length > 0 || from === undefined || to === undefined || zone === undefined) {
    return { ok: false, errors: errors.length > 0 ? errors : [{ field: 'date', message: 'required' }] };
  }
  return {
    ok: true,
    value: {
      from,
      to,
      timeZone: zone,
      statuses: [...new Set(b.statuses ?? [])],
      types: [...new Set(b.types ?? [])],
      clients: b.client ? [b.client] : [],
      formats: [...new Set(b.formats ?? FORMATS)],
      notify,
    },
  };
}

/** `GET /reports?date=YYYY-MM-DD` */
export function parseListQuery(
  query: Record<string, string | undefined> | undefined,
): Parsed<{ date: string }> {
  const errors: FieldError[] = [];
  const date = query?.date;
  unknownNames(
    'query',
    Object.keys(query ?? {}).filter((key) => key !== 'date'),
    'unknown query parameter',
    errors,
  );
  if (date === undefined || date === '') errors.push({ field: 'date', message: 'required: YYYY-MM-DD' });
  else checkDay('date', date, errors);
  if (errors.length > 0 || date === undefined) return { ok: false, errors };
  return { ok: true, value: { date } };
}

export function parseReportId(id: string | undefined): Parsed<string> {
  if (id === undefined || !REPORT_ID.test(id)) {
    return { ok: false, errors: [{ field: 'id', message: 'not a report id' }] };
  }
  return { ok: true, value: id };
}

// ---------------------------------------------------------------- re-send and backfill

/** The request header that makes a re-send or a backfill idempotent (required on both). */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/**
 * A request key as the runs take it: it becomes part of a claim (`<report id>~<key>`,
 * `<day>~<key>`) and of the scheduled event's `force`, so it is kept plain and short.
 */
export const REQUEST_KEY = /^[A-Za-z0-9_-]{1,64}$/;
const REQUEST_KEY_RULE = '1–64 letters, digits, "_" or "-"';

/** The `Idempotency-Key` header (header names are case-insensitive; API Gateway lower-cases them). */
export function parseIdempotencyKey(headers: Record<string, string | undefined> | undefined): Parsed<string> {
  const wanted = IDEMPOTENCY_HEADER.toLowerCase();
  const value = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === wanted)?.[1];
  if (value === undefined || value.trim() === '') {
    return {
      ok: false,
      errors: [
        {
          field: IDEMPOTENCY_HEADER,
          message: `required header: a key of yours for this request (${REQUEST_KEY_RULE}); send the same key to retry it without doing it twice`,
        },
      ],
    };
  }
  if (!REQUEST_KEY.test(value)) {
    return {
      ok: false,
      errors: [
        {
          field: IDEMPOTENCY_HEADER,
          message: `${echo(value)} is not a request key: use ${REQUEST_KEY_RULE}`,
        },
      ],
    };
  }
  return { ok: true, value };
}

const RESEND_FIELDS = {
  to: FIELDS.notify,
} as const;

/** `POST /reports/{id}/resend` body: `{ to?: [...] }`; no body or no `to` means the report's own recipients. */
export function parseResendRequest(
  body: unknown,
  ctx: { allowedDomains: readonly string[] },
): Parsed<{ to: string[] }> {
  if (body === undefined) return { ok: true, value: { to: [] } };
  const errors: FieldError[] = [];
  const b = readFields(body, errors, RESEND_FIELDS);
  const to = [...new Set(b?.to ?? [])];
  checkAllowed('to', to, ctx.allowedDomains, errors);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { to } };
}

const BACKFILL_FIELDS = {
  from: FIELDS.from,
  to: FIELDS.to,
  force: z.boolean({ error: 'must be true or false' }),
} as const;

/**
 * `POST /definitions/{name}/backfill` body: `{ from, to, force? }`, inclusive days in the
 * definition's zone, refused like `POST /reports` refuses them (not a date, before 2000, not
 * finished yet in that zone, more than MAX_RANGE_DAYS).
 */
export function parseBackfillRequest(
  body: unknown,
  ctx: { timeZone: string; now: Date },
): Parsed<{ from: string; to: string; force: boolean }> {
  if (body === undefined)
    return { ok: false, errors: [{ field: 'body', message: 'a JSON body is required: { "from", "to" }' }] };
  const errors: FieldError[] = [];
  const b = readFields(body, errors, BACKFILL_FIELDS);
  if (!b) return { ok: false, errors };
  if (b.from === undefined && !errors.some((e) => e.field === 'from'))
    errors.push({ field: 'from', message: 'required: the first day, YYYY-MM-DD' });
  if (b.to === undefined && !errors.some((e) => e.field === 'to'))
    errors.push({ field: 'to', message: 'required: the last day, YYYY-MM-DD (inclusive)' });
  const fromOk = b.from !== undefined && checkDay('from', b.from, errors);
  const toOk = b.to !== undefined && checkDay('to', b.to, errors);
  if (fromOk && toOk && b.from !== undefined && b.to !== undefined) {
    const days = daysBetween(b.from, b.to);
    if (days < 1) errors.push({ field: 'to', message: `${b.to} is before from (${b.from})` });
    else if (days > MAX_RANGE_DAYS)
      errors.push({
        field: 'to',
        message: `the range is ${days} days; at most ${MAX_RANGE_DAYS} are allowed`,
      });
    const tooEarly = tooEarlyDayProblem(b.from);
    if (tooEarly) errors.push({ field: 'from', message: tooEarly });
    const unfinished = unfinishedDayProblem(b.to, ctx.timeZone, ctx.now);
    if (unfinished) errors.push({ field: 'to', message: unfinished });
  }
  if (errors.length > 0 || b.from === undefined || b.to === undefined) return { ok: false, errors };
  return { ok: true, value: { from: b.from, to: b.to, force: b.force ?? false } };
}

/** A definition name in a path: one of the configured ones (404 otherwise, said by the route). */
export function parseDefinitionName(
  name: string | undefined,
  known: readonly { name: string }[],
): { ok: true; value: string } | { ok: false; message: string } {
  const found = name === undefined ? undefined : known.find((d) => d.name === name);
  if (found) return { ok: true, value: found.name };
  return {
    ok: false,
    message: `No report definition named ${echo(name ?? '')}. Known definitions: ${known.map((d) => d.name).join(', ') || '(none)'}.`,
  };
}
