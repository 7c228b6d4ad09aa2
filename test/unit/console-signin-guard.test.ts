/** The user pool's trigger: only e-mail addresses in the allowed domains are created or signed in. */
import type { PreAuthenticationTriggerEvent, PreSignUpTriggerEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createSignInGuard } from '../../functions/handlers/console-signin-guard.js';

const signUp = (email?: string) =>
  ({
    triggerSource: 'PreSignUp_AdminCreateUser',
    request: { userAttributes: email ? { email } : {} },
    response: {},
  }) as unknown as PreSignUpTriggerEvent;
const signIn = (email: string) =>
  ({
    triggerSource: 'PreAuthentication_Authentication',
    request: { userAttributes: { email } },
    response: {},
  }) as unknown as PreAuthenticationTriggerEvent;

describe('console sign-in guard', () => {
  const guard = createSignInGuard(['ops.example', 'Risk.Example']);

  it('lets addresses in the allowed domains be created and sign in (domain case ignored)', async () => {
    await expect(guard(signUp('ana@ops.example'))).resolves.toMatchObject({ request: {} });
    await expect(guard(signIn('Bo@RISK.example'))).resolves.toMatchObject({ request: {} });
  });

  it('refuses other domains, look-alike subdomains and a missing address with a sentence', async () => {
    for (const email of ['eve@evil.example', 'eve@ops.example.evil.example', 'eve@sub.ops.example']) {
      await expect(guard(signIn(email))).rejects.toThrow(
        'Only addresses in ops.example, Risk.Example may use the reports console. Ask an admin.',
      );
    }
    await expect(guard(signUp())).rejects.toThrow(/Only addresses/);
  });

  it('with no domains configured, refuses everyone', async () => {
    await expect(createSignInGuard([])(signIn('ana@ops.example'))).rejects.toThrow(/\(no domain\)/);
  });
});
