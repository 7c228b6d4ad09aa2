/**
 * A list response body → `Page`, whichever documented envelope the server used. Pure: the
 * client decides what to do with the verdict (retry a cut-off body, fail on a malformed one).
 */
import { z } from 'zod';
import { isBiometricValidation } from './record-guard.js';
import { BiometricValidation, EmptyEnvelope, ModuleEnvelope, type Page, SeedEnvelope } from './schema.js';

export type BodyVerdict =
  | { ok: true; page: Page }
  | { ok: false; kind: 'truncated'; detail: string }
  | { ok: false; kind: 'malformed'; problem: string };

/**
 * True when `text` stops inside a JSON value (open string, object or array): what a body cut off by
 * a dropped connection or proxy looks like. A complete-but-invalid text (`<html>`, `{"a": nope}`) is not.
 */
export function looksTruncated(text: string): boolean {
  if (text.trim() === '') return true;
  let depth = 0;
  let inString = false;
  // Stryker disable next-line EqualityOperator: one step past the end reads NaN, which matches no branch
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) depth++;
    else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return inString || depth > 0;
}

const RecordList = z.array(BiometricValidation);

function describeIssue(records: unknown[], error: z.ZodError): string {
  const issue = error.issues[0];
  // Stryker disable next-line ConditionalExpression,StringLiteral: a failed zod parse has at least one issue; the line is for the type
  if (!issue) return 'a record is invalid';
  // Stryker disable next-line ConditionalExpression: an array's issues start with the record's index; the check is for the type
  const index = typeof issue.path[0] === 'number' ? issue.path[0] : null;
  // Stryker disable next-line ConditionalExpression: index is never null (above)
  const record = index === null ? undefined : records[index];
  const id =
    record && typeof record === 'object' && '_id' in record
      ? ` (_id ${JSON.stringify((record as { _id: unknown })._id)})`
      : '';
  const field = issue.path.slice(1).join('.') || '(the record)';
  // Stryker disable next-line StringLiteral: index is never null (above), so '?' is never printed
  return `record ${index ?? '?'}${id} is not a biometric validation: ${field}: ${issue.message}`;
}

/** The envelope's records, each validated, with its pagination already mapped to `Page` names. */
function toPage(raw: unknown[], meta: Omit<Page, 'records'>): BodyVerdict {
  // The usual case: every record passes the guard and is used as parsed, uncopied.
  if (raw.every(isBiometricValidation)) return { ok: true, page: { records: raw, ...meta } };
  const parsed = RecordList.safeParse(raw);
  return parsed.success
    ? // Stryker disable next-line ObjectLiteral,BooleanLiteral: the guard refuses nothing zod accepts from JSON (record-guard's property test), so this branch is only for the type
      { ok: true, page: { records: parsed.data, ...meta } }
    : { ok: false, kind: 'malformed', problem: describeIssue(raw, parsed.error) };
}

function topLevelShape(json: unknown): string {
  if (json === null || typeof json !== 'object') return `a JSON ${json === null ? 'null' : typeof json}`;
  if (Array.isArray(json)) return 'a JSON array';
  return `an object with keys [${Object.keys(json).slice(0, 8).join(', ')}]`;
}

/** Reads a 2xx list response. `requestedPage` fills `page` for envelopes that do not carry it. */
export function readListBody(status: number, text: string, requestedPage: number): BodyVerdict {
  const empty = (): BodyVerdict => ({
    ok: true,
    page: { records: [], page: requestedPage, perPage: null, total: 0, pages: 0, envelope: 'empty' },
  });
  if (status === 204) return empty();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return looksTruncated(text)
      ? {
          ok: false,
          kind: 'truncated',
          detail: `the body ends inside a JSON value after ${text.length} characters`,
        }
      : { ok: false, kind: 'malformed', problem: `the body is not JSON (${why})` };
  }

  const seed = SeedEnvelope.safeParse(json);
  if (seed.success) {
    // zod keeps only the declared keys, which are `Page`'s own names here.
    return toPage(seed.data.data, { ...seed.data.pagination, envelope: 'seed' });
  }
  const mod = ModuleEnvelope.safeParse(json);
  if (mod.success) {
    const d = mod.data.data;
    return toPage(d.docs, {
      page: d.page,
      perPage: d.limit,
      total: d.total,
      pages: d.pages,
      envelope: 'module',
    });
  }
  if (EmptyEnvelope.safeParse(json).success) return empty();
  if (
    json &&
    typeof json === 'object' &&
    'success' in json &&
    (json as { success: unknown }).success === false
  ) {
    return { ok: false, kind: 'malformed', problem: 'an error body arrived with a success status' };
  }
  return {
    ok: false,
    kind: 'malformed',
    problem: `expected {success, data: [...], pagination} or {data: {docs, total, limit, page, pages}}, got ${topLevelShape(json)}`,
  };
}
