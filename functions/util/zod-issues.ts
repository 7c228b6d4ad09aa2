/** A zod error as one line for an error message: `path: message; path: message`. */
import type { z } from 'zod';

/** `root` names the value itself when an issue has no path (e.g. "event", "query"). */
export function describeIssues(error: z.ZodError, root: string): string {
  return error.issues.map((i) => `${i.path.join('.') || root}: ${i.message}`).join('; ');
}
