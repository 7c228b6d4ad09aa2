/**
 * A definition's `splitBy`: one read of the period, one report per project (or client), each
 * with only its own rows, files, manifest and audience.
 *
 * A scope's reports are stored, claimed and logged under a name of their own,
 * `<definition>--<scope>` (scopeReportName), so every existing path — S3 keys, the day's claim,
 * the delivery log, "what changed" against the previous period, downloads — treats a scope's
 * report as the report of its own definition, and one scope can never pick up another's.
 */
import { z } from 'zod';
import { DEFINITION_NAME, MAX_RECIPIENTS } from '../contract.js';

/**
 * At most this many scopes per definition: each open scope holds a summary and two streaming
 * writers for the whole read (measured: 20 scopes over 1M validations peaked at 258 MB, below one
 * unscoped report's 283 MB; 50 is not measured). More than 50 is refused at synth: split the
 * definition in two.
 */
export const MAX_SCOPES = 50;

export const SCOPE_NAME = /^[a-z0-9][a-z0-9-]{0,23}$/;
const SCOPE_SEPARATOR = '--';

export const Scope = z.strictObject({
  /** Key-safe label: names the scope's reports (`<definition>--<name>`). */
  name: z.string().regex(SCOPE_NAME, 'lowercase letters, digits and dashes, at most 24'),
  /** The Verifik project (or client) id whose validations this scope reports. */
  id: z.string().min(1).max(128),
  recipients: z.array(z.email()).max(MAX_RECIPIENTS).default([]),
  /** Names of the definition's destinations this scope's message also goes to. */
  destinations: z.array(z.string()).default([]),
});
export type Scope = z.infer<typeof Scope>;

export const SplitBy = z.strictObject({
  by: z.enum(['project', 'client']),
  scopes: z.array(Scope).min(1).max(MAX_SCOPES),
  /** Also produce the definition's overall report (every row) for the definition's own recipients. */
  overall: z.boolean().default(true),
});
export type SplitBy = z.infer<typeof SplitBy>;

/** The name a scope's reports live under: S3 keys, claims, the delivery log. */
export function scopeReportName(definition: string, scope: string): string {
  return `${definition}${SCOPE_SEPARATOR}${scope}`;
}

/** Problems with a definition's scopes, as [path, message] (the definitions schema adds them as issues). */
export function scopeProblems(definition: string, split: SplitBy): [(string | number)[], string][] {
  const out: [(string | number)[], string][] = [];
  const names = new Set<string>();
  const ids = new Set<string>();
  for (const [i, s] of split.scopes.entries()) {
    if (names.has(s.name)) out.push([['splitBy', 'scopes', i, 'name'], `duplicate scope "${s.name}"`]);
    if (ids.has(s.id)) out.push([['splitBy', 'scopes', i, 'id'], `${split.by} "${s.id}" is in two scopes`]);
    names.add(s.name);
    ids.add(s.id);
    const full = scopeReportName(definition, s.name);
    if (!DEFINITION_NAME.test(full))
      out.push([
        ['splitBy', 'scopes', i, 'name'],
        `"${full}" (definition--scope) must be at most 48 characters: shorten the definition or the scope name`,
      ]);
  }
  return out;
}
