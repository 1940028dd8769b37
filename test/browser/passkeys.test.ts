/**
 * Passkeys in real Chromium (issue 13), with the DevTools virtual authenticator (CTAP2, internal
 * transport, resident keys, user verification): register a passkey from the signed-in Security
 * view, sign out, sign in with it, Approve, tokens reach the callback; a second authenticator
 * without the credential fails cleanly; TOTP enrolment; a change refused for an old sign-in sends
 * the user to sign in again. The page is opened on `localhost` (an RP ID cannot be
 * an IP address), which is the configured RP ID with the node's port as its origin.
 */
import * as OTPAuth from 'otpauth';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { claims, validate } from '../e2e/client.js';
import { adminWorld, call } from '../http/admin-fixtures.js';
import {
  ADMIN_PASSWORD,
  describeInBrowser,
  launchChromium,
  NODE_ENV,
  seriousA11yIssues,
  startCallbackServer,
  startNode,
  type CallbackServer,
  type Node,
} from './harness.js';

describeInBrowser('Passkeys in Chromium (issue 13)', () => {
  let browser: Browser;
  let node: Node;
  let app: CallbackServer;
  let origin: string;

  beforeAll(async () => {
    [browser, node, app] = await Promise.all([
      launchChromium(),
      startNode((port) => ({
        ...NODE_ENV,
        AUTH__PROVIDERS__PASSKEY__ENABLED: 'true',
        AUTH__PROVIDERS__PASSKEY__RP_ID: 'localhost',
        AUTH__PROVIDERS__PASSKEY__ORIGINS: JSON.stringify([`http://localhost:${port}`]),
      })),
      startCallbackServer(),
    ]);
    origin = `http://localhost:${node.port}`;
  });
  afterAll(async () => {
    await Promise.all([browser?.close(), node?.stop(), app?.close()].map((p) => p?.catch(() => {})));
  });

  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    expect(problems).toEqual([]);
  });

  /**
   * A fresh browser profile with its own virtual platform authenticator. `autofill: false` hides
   * conditional UI from the page: the virtual authenticator answers a conditional request by
   * itself, which would sign in before a test could press the button.
   */
  async function device(
    o: { autofill: boolean } = { autofill: true },
  ): Promise<{ page: Page; cdp: CDPSession; authenticatorId: string }> {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    contexts.push(context);
    if (!o.autofill) {
      await context.addInitScript(
        'Object.defineProperty(PublicKeyCredential, "isConditionalMediationAvailable", { value: () => Promise.resolve(false) });',
      );
    }
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return { page, cdp, authenticatorId };
  }

  const loginPage = (callback: string) =>
    `${origin}/auth/login?callback-url=${encodeURIComponent(callback)}&permissions=${encodeURIComponent('blob:get')}`;
  const consentHeading = (page: Page) => page.getByRole('heading', { level: 1, name: /Allow access for/ });

  /** The sign-in form with the admin's password; on to the consent step. */
  async function signInWithPassword(page: Page): Promise<void> {
    await page.getByLabel('Username', { exact: true }).fill('admin');
    await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await consentHeading(page).waitFor();
  }

  /** Security → second factor "none" → Save: the account as the other tests expect it. */
  async function noSecondFactor(page: Page): Promise<void> {
    await page.getByRole('button', { name: 'Security' }).click();
    await page.locator('input[name="second-factor"][value="none"]').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#status', { hasText: 'Saved.' }).waitFor();
  }

  /** Password sign-in, then Security → Add a passkey; back on the consent step. */
  async function registerPasskey(page: Page, callback: string, name: string): Promise<void> {
    await page.goto(loginPage(callback));
    await signInWithPassword(page);
    await page.getByRole('button', { name: 'Security' }).click();
    await page.getByRole('heading', { level: 1, name: 'Passkeys and second factor' }).waitFor();
    await page.getByLabel('Name for the new passkey').fill(name);
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.locator('#status', { hasText: 'Passkey added.' }).waitFor();
    await page.locator('.passkey .session-name', { hasText: name }).waitFor();
    await page.getByRole('button', { name: 'Back' }).click();
    await consentHeading(page).waitFor();
  }

  it('conditional UI: after sign-out, the username field’s passkey suggestion signs in by itself', async () => {
    const { page } = await device();
    await registerPasskey(page, `${app.origin}/cb`, 'autofill key');
    expect(await page.evaluate('PublicKeyCredential.isConditionalMediationAvailable()')).toBe(true);
    const tokenRequest = page.waitForRequest((r) => r.url() === `${origin}/auth/token`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    // No click: the conditional request started by the sign-in form is answered by the
    // authenticator (as a user picking the suggestion would), and the page moves on.
    expect(((await tokenRequest).postDataJSON() as { auth_method: string }).auth_method).toBe('passkey');
    await consentHeading(page).waitFor();
    expect(await page.locator('.account strong').textContent()).toBe('admin');
    expect(await page.locator('#username').count()).toBe(0);
  });

  it('register a passkey, sign out, sign in with it, Approve: the tokens reach the callback', async () => {
    const { page, cdp, authenticatorId } = await device({ autofill: false });
    const callback = `${app.origin}/cb`;
    await page.goto(loginPage(callback));
    await signInWithPassword(page);

    // Security view → Add a passkey (the virtual authenticator answers the ceremony).
    await page.getByRole('button', { name: 'Security' }).click();
    await page.getByRole('heading', { level: 1, name: 'Passkeys and second factor' }).waitFor();
    await page.getByLabel('Name for the new passkey').fill('CI laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.locator('#status', { hasText: 'Passkey added.' }).waitFor();
    await page.locator('.passkey .session-name', { hasText: 'CI laptop' }).waitFor();
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]).toMatchObject({ isResidentCredential: true, rpId: 'localhost' });
    const registeredCount = credentials[0]?.signCount ?? 0;

    // Back, sign out.
    await page.getByRole('button', { name: 'Back' }).click();
    await consentHeading(page).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#status', { hasText: 'You are signed out.' }).waitFor();

    // Sign in with the passkey: no username, no password.
    const tokenRequest = page.waitForRequest((r) => r.url() === `${origin}/auth/token`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    const sent = (await tokenRequest).postDataJSON() as {
      auth_method: string;
      public_key: string;
      provider_data: { attempt_id: string; response: { id: string } };
    };
    expect(sent.auth_method).toBe('passkey');
    // The rate-limit bucket is the credential's own.
    expect(sent.public_key).toBe(sent.provider_data.response.id);
    await consentHeading(page).waitFor();
    expect(await page.locator('.account strong').textContent()).toBe('admin');
    const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(after.credentials[0]?.signCount).toBeGreaterThan(registeredCount);

    // Approve: the client-key tokens arrive in the callback's fragment and are good.
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL((u) => u.toString().startsWith(callback));
    const fragment = new URLSearchParams(new URL(page.url()).hash.slice(1));
    const access = fragment.get('access_token') ?? '';
    expect(access).not.toBe('');
    expect(fragment.get('refresh_token')).not.toBeNull();
    expect(claims(access).permissions).toEqual(['blob:get']);
    expect((await validate(node.url, access)).status).toBe(200);
  });

  it('a second authenticator without the credential fails cleanly: an error on the sign-in form, no tokens', async () => {
    const { page, cdp, authenticatorId } = await device();
    await page.goto(loginPage(`${app.origin}/cb`));
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.locator('#alert p').waitFor();
    expect(await page.locator('#alert').textContent()).toBe('The passkey request was cancelled or timed out. Try again.');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');
    expect(await page.evaluate('sessionStorage.getItem("mero-auth.session")')).toBeNull();
    expect((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials).toEqual([]);
    // The button works again afterwards (not stuck busy).
    expect(await page.getByRole('button', { name: 'Sign in with a passkey' }).getAttribute('aria-disabled')).toBeNull();
  });

  it('TOTP: enrol with the QR shown on the page, recovery codes shown once; a password sign-in then continues to the code step', async () => {
    const { page } = await device({ autofill: false });
    await page.goto(loginPage(`${app.origin}/cb`));
    await signInWithPassword(page);
    await page.getByRole('button', { name: 'Security' }).click();
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const qr = page.getByRole('img', { name: 'QR code for the authenticator app' });
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
    // Rendered under the page CSP (img-src 'self' data:): the decoded image has a size.
    await page.waitForFunction('document.querySelector("img.qr").complete && document.querySelector("img.qr").naturalWidth > 0');
    const secret = ((await page.locator('.totp .raw code').textContent()) ?? '').trim();
    const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
    await page.getByLabel('Code', { exact: true }).fill(totp.generate());
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('heading', { level: 2, name: 'Your recovery codes' }).waitFor();
    expect(await page.locator('.codes li').count()).toBe(10);
    expect(await page.locator('input[name="second-factor"][value="totp"]').isChecked()).toBe(true);

    await page.getByRole('button', { name: 'Back' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
    await page.getByLabel('Username', { exact: true }).fill('admin');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Second step' }).waitFor();
    // The next step's code: the confirming code (this step) is spent and would be refused.
    await page.getByLabel('Code', { exact: true }).fill(totp.generate({ timestamp: Date.now() + 30_000 }));
    await page.getByRole('button', { name: 'Verify' }).click();
    await consentHeading(page).waitFor();

    // Leave the account as the other tests expect it: no second factor.
    await noSecondFactor(page);
  });

  it('passkey required: a password sign-in continues to "Continue with your passkey"; the new views pass axe', async () => {
    const { page } = await device({ autofill: false });
    await registerPasskey(page, `${app.origin}/cb`, 'step-up key');
    await page.getByRole('button', { name: 'Security' }).click();
    await page.locator('.security:not([aria-busy])').waitFor();
    expect(await seriousA11yIssues(page), 'axe on the Security view').toEqual([]);
    await page.locator('input[name="second-factor"][value="passkey"]').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { level: 2, name: 'Your recovery codes' }).waitFor();
    await page.getByRole('button', { name: 'Back' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();

    await page.getByLabel('Username', { exact: true }).fill('admin');
    await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Second step' }).waitFor();
    expect(await page.locator('#body').textContent()).toContain('This account also needs its passkey.');
    expect(await seriousA11yIssues(page), 'axe on the second step').toEqual([]);
    await page.getByRole('button', { name: 'Continue with your passkey' }).click();
    await consentHeading(page).waitFor();

    // Back to none, as the other tests expect the account.
    await noSecondFactor(page);
  });

  it('a change from a sign-in older than reauth_seconds: the page asks to sign in again, and after that the change goes through', async () => {
    // The node's real refusal, produced by the service itself with its clock moved past the
    // window (the browser test's node runs on the real clock, and the window is at least 30 s).
    const w = await adminWorld();
    w.t.clock.advanceSeconds(w.t.svc.config.second_factor.reauth_seconds + 1);
    const refusal = await call(w.t, 'POST', '/admin/totp', { token: w.admin.access });
    const refusalBody = await refusal.text();
    await w.t.close();
    expect(refusal.status).toBe(403);

    const { page } = await device({ autofill: false });
    await page.goto(loginPage(`${app.origin}/cb`));
    await signInWithPassword(page);
    await page.getByRole('button', { name: 'Security' }).click();
    await page.route(
      `${origin}/admin/totp`,
      (route) =>
        route.fulfill({
          status: refusal.status,
          contentType: refusal.headers.get('content-type') ?? undefined,
          body: refusalBody,
        }),
      { times: 1 },
    );
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await page.getByText('changing passkeys or the second factor needs a recent sign-in').waitFor();

    await signInWithPassword(page);
    await page.getByRole('button', { name: 'Security' }).click();
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await page.getByRole('img', { name: 'QR code for the authenticator app' }).waitFor();
  });
});
