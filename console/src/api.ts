/**
 * The console's calls to the reports API (`<apiUrl>/console/...`) with the access token. A 401
 * tries the refresh token once; if that fails too, the session has ended and the app returns to
 * sign-in (SessionEnded), keeping the page and its drafts to come back to.
 */
import { refresh } from './cognito.js';
import { config } from './config.js';
import { loadSession, type Session, saveSession } from './session.js';

export class SessionEnded extends Error {}

/** The API's refusal, as a sentence (with the fields at fault, when it names them). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

let onSessionEnded: () => void = () => undefined;
export function whenSessionEnds(fn: () => void): void {
  onSessionEnded = fn;
}

async function send(path: string, init: RequestInit, session: Session): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${session.accessToken}`);
  if (init.body) headers.set('content-type', 'application/json');
  try {
    return await fetch(`${config().apiUrl}/console${path}`, { ...init, headers });
  } catch {
    throw new ApiError('The reports API cannot be reached. Check your connection and try again.', 0);
  }
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  let session = loadSession();
  if (!session) {
    onSessionEnded();
    throw new SessionEnded();
  }
  let res = await send(path, init, session);
  if (res.status === 401 && session.refreshToken) {
    try {
      session = { ...session, ...(await refresh(session.refreshToken)) };
      saveSession(session);
      res = await send(path, init, session);
    } catch {
      // The refresh token is gone or revoked: same as an ended session.
    }
  }
  if (res.status === 401) {
    saveSession(undefined);
    onSessionEnded();
    throw new SessionEnded();
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const fields = Array.isArray(body.fields)
      ? (body.fields as { field: string; message: string }[]).map((f) => `${f.field}: ${f.message}`)
      : [];
    const message =
      typeof body.message === 'string'
        ? body.message
        : res.status === 429
          ? 'Too many reports are running. Try again in a minute.'
          : 'The reports API failed. Try again in a minute.';
    throw new ApiError(
      fields.length > 0
        ? `${message} ${fields.join('; ')}. Correct ${fields.length > 1 ? 'them' : 'it'} and try again.`
        : message,
      res.status,
    );
  }
  return body as T;
}

export const post = <T>(path: string, body?: unknown, headers: Record<string, string> = {}) =>
  api<T>(path, { method: 'POST', headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
