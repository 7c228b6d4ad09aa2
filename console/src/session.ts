/**
 * The signed-in session, kept in sessionStorage (this tab only, gone when it closes): the tokens
 * and what the page reads from the access token to show or hide actions. The server checks the
 * groups again on every call; the page only spares people buttons that would be refused.
 */
import type { Tokens } from './cognito.js';

const KEY = 'verifik-reports.session';

export type Group = 'viewers' | 'requesters' | 'admins';
const RANK: Record<Group, number> = { viewers: 1, requesters: 2, admins: 3 };

export interface Session extends Tokens {
  email: string;
  groups: Group[];
}

function claimsOf(token: string): Record<string, unknown> {
  try {
    const part = token.split('.')[1] ?? '';
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(json) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export function sessionFrom(email: string, tokens: Tokens): Session {
  const raw = claimsOf(tokens.accessToken)['cognito:groups'];
  const groups = (Array.isArray(raw) ? raw : []).filter(
    (g): g is Group => typeof g === 'string' && g in RANK,
  );
  return { ...tokens, email, groups };
}

export function loadSession(): Session | undefined {
  try {
    const s = sessionStorage.getItem(KEY);
    return s ? (JSON.parse(s) as Session) : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(s: Session | undefined): void {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}

export function can(s: Session | undefined, needs: Group): boolean {
  return Math.max(0, ...(s?.groups ?? []).map((g) => RANK[g])) >= RANK[needs];
}

/** A form's text kept across a sign-in, so an expired session loses nothing typed. */
export function keepDraft(name: string, value: unknown): void {
  sessionStorage.setItem(`verifik-reports.draft.${name}`, JSON.stringify(value));
}

export function draft<T>(name: string): T | undefined {
  try {
    const s = sessionStorage.getItem(`verifik-reports.draft.${name}`);
    return s ? (JSON.parse(s) as T) : undefined;
  } catch {
    return undefined;
  }
}

export function dropDraft(name: string): void {
  sessionStorage.removeItem(`verifik-reports.draft.${name}`);
}
