/**
 * The list query for `GET /v2/biometric-validations`: a typed object with readable names, and its
 * one serialisation to the wire. Every parameter of the seed page is here, plus `where<_createdAt`.
 *
 * | field              | wire parameter            |
 * |--------------------|---------------------------|
 * | `page`             | `page`                    |
 * | `perPage`          | `perPage`                 |
 * | `offset`           | `offset`                  |
 * | `populates`        | `populates[]` (repeated)  |
 * | `client`           | `where_client`            |
 * | `status`           | `where_status`            |
 * | `type`             | `where_type`              |
 * | `livenessSession`  | `where_livenessSession`   |
 * | `statusIn`         | `in_status[]` (repeated)  |
 * | `createdAfter`     | `where>_createdAt` (strict `>`) |
 * | `createdBefore`    | `where<_createdAt` (strict `<`) |
 * | `sort`             | `sort`                    |
 */
import { z } from 'zod';
import { ReportsError } from '../errors/kinds.js';
import { describeIssues } from '../util/zod-issues.js';

export const POPULATES = ['client', 'project', 'projectFlow', 'livenessSession'] as const;

const nonEmpty = z.string().min(1);
const validDate = z.date().refine((d) => !Number.isNaN(d.getTime()), { message: 'an invalid Date' });

export const ListQuery = z
  .object({
    page: z.number().int().min(1).optional(),
    perPage: z.number().int().min(1).optional(),
    offset: z.number().int().min(0).optional(),
    populates: z.array(z.enum(POPULATES)).optional(),
    client: nonEmpty.optional(),
    status: nonEmpty.optional(),
    type: nonEmpty.optional(),
    livenessSession: nonEmpty.optional(),
    statusIn: z.array(nonEmpty).optional(),
    createdAfter: validDate.optional(),
    createdBefore: validDate.optional(),
    sort: z.enum(['createdAt', '-createdAt']).optional(),
  })
  .strict();
export type ListQuery = z.infer<typeof ListQuery>;

export class InvalidQueryError extends ReportsError {
  override readonly kind = 'usage';
  override name = 'InvalidQueryError';
}

/**
 * Encodes like the seed page's own axios example does: brackets and colons stay literal
 * (`in_status[]=a`, `2024-12-01T05:00:00.000Z`), everything else is percent-encoded (`where%3E_createdAt`).
 */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/%5B/g, '[').replace(/%5D/g, ']').replace(/%3A/g, ':');
}

/** The query string (without `?`), parameters in a fixed order so requests are comparable in logs. */
export function toQueryString(query: ListQuery): string {
  const parsed = ListQuery.safeParse(query);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error, 'query');
    throw new InvalidQueryError(
      `The Verifik list query is invalid (${problems}); fix the caller that built it.`,
    );
  }
  const q = parsed.data;
  const pairs: [string, string][] = [];
  const add = (key: string, value: string | number | undefined) => {
    if (value !== undefined) pairs.push([key, String(value)]);
  };
  add('page', q.page);
  add('perPage', q.perPage);
  add('offset', q.offset);
  for (const p of q.populates ?? []) add('populates[]', p);
  add('where_client', q.client);
  add('where_status', q.status);
  add('where_type', q.type);
  add('where_livenessSession', q.livenessSession);
  for (const s of q.statusIn ?? []) add('in_status[]', s);
  add('where>_createdAt', q.createdAfter?.toISOString());
  add('where<_createdAt', q.createdBefore?.toISOString());
  add('sort', q.sort);
  return pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
}

/** The same parameters as `URLSearchParams` (decoded view; use `toQueryString` for the exact wire text). */
export function toSearchParams(query: ListQuery): URLSearchParams {
  return new URLSearchParams(toQueryString(query));
}
