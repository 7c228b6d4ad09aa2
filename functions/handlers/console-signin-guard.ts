/**
 * Cognito trigger of the console's user pool, for PreSignUp (an admin creating a user: the only
 * way in, self sign-up is off) and PreAuthentication (every sign-in): the account's e-mail must be
 * in the allowed recipient domains, the same list reports may be mailed to. Refusing at sign-in
 * too means narrowing the list later locks out accounts created before, without deleting them.
 */
import type { PreAuthenticationTriggerEvent, PreSignUpTriggerEvent } from 'aws-lambda';
import { disallowedRecipients } from '../contract.js';

type GuardedEvent = PreSignUpTriggerEvent | PreAuthenticationTriggerEvent;

export function createSignInGuard(allowedDomains: readonly string[]) {
  return async <E extends GuardedEvent>(event: E): Promise<E> => {
    const email = event.request.userAttributes.email ?? '';
    if (!email.includes('@') || disallowedRecipients([email], allowedDomains).length > 0) {
      // Cognito shows this text to the person (prefixed with the trigger's name): say what to do.
      throw new Error(
        `Only addresses in ${allowedDomains.join(', ') || '(no domain)'} may use the reports console. Ask an admin.`,
      );
    }
    return event;
  };
}

export const handler = createSignInGuard(
  (process.env.ALLOWED_RECIPIENT_DOMAINS ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean),
);
