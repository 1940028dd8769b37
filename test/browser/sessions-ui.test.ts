/**
 * The login page additions of issue 12 in Chromium, against the real service: the signed-in
 * view of the account's sessions (Revoke, Sign out everywhere), the requesting app's name beside
 * its origin, `prefers-color-scheme: dark`, and a second language.
 */
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { CLIENT_NAME, loginOk, validate } from '../e2e/client.js';
import {
  ADMIN_PASSWORD,
  describeInBrowser,
  launchChromium,
  loginUrl,
  NODE_ENV,
  seriousA11yIssues,
  startCallbackServer,
  startNode,
  type CallbackServer,
  type Node,
} from './harness.js';

describeInBrowser('Login page additions (issue 12) in Chromium', () => {
  let browser: Browser;
  let node: Node;
  let app: CallbackServer;

  beforeAll(async () => {
    [browser, node, app] = await Promise.all([launchChromium(), startNode(NODE_ENV), startCallbackServer()]);
  });
  afterAll(async () => {
    await Promise.all([browser?.close(), node?.stop(), app?.close()].map((p) => p?.catch(() => {})));
  });

  let context: BrowserContext;
  let page: Page;
  let problems: string[];

  async function open(options: BrowserContextOptions = {}): Promise<void> {
    problems = [];
    context = await browser.newContext({ viewport: { width: 1024, height: 768 }, ...options });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  }
  afterEach(async () => {
    await context?.close();
    expect(problems).toEqual([]);
  });

  const headingText = async () =>
    ((await page.getByRole('heading', { level: 1 }).textContent()) ?? '').replace(/\s+/g, ' ').trim();
  async function signIn(labels = { user: 'Username', password: 'Password', submit: 'Sign in' }): Promise<void> {
    await page.getByLabel(labels.user, { exact: true }).fill('admin');
    await page.getByLabel(labels.password, { exact: true }).fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: labels.submit }).click();
  }
  const stored = async () =>
    JSON.parse((await page.evaluate('sessionStorage.getItem("mero-auth.session")')) as string) as { access_token: string };

  it('Sessions: lists the account’s sessions with the current one marked; Revoke ends another at once; Sign out everywhere ends all', async () => {
    await open();
    const elsewhere = await loginOk(node.url, 'admin', ADMIN_PASSWORD); // e.g. meroctl on another machine
    await page.goto(loginUrl(node, { 'callback-url': `${app.origin}/cb`, permissions: 'blob:get' }));
    await signIn();
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    await page.getByRole('button', { name: 'Sessions' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your sessions' }).waitFor();
    await page.locator('.sessions:not([aria-busy])').waitFor();

    const names = await page.locator('.session .session-name').allTextContents();
    expect(names).toContain(CLIENT_NAME);
    expect(names.some((n) => n.startsWith(`${node.url}/auth/login?`))).toBe(true);
    const current = page.locator('.session', { has: page.locator('.badge.current') });
    expect(await current.count()).toBe(1);
    expect(await current.locator('.session-name').textContent()).toContain('/auth/login?');
    expect(await current.locator('.session-meta').textContent()).toContain('127.0.0.1');
    expect(await page.locator('main').textContent()).not.toContain('eyJ'); // no token on the page
    expect(await seriousA11yIssues(page)).toEqual([]);

    // Revoke the other session: gone from the list, its token refused by the node at once.
    expect((await validate(node.url, elsewhere.access_token)).status).toBe(200);
    const other = page.locator('.session', { hasText: CLIENT_NAME }).first();
    const sid = await other.getAttribute('data-sid');
    await other.getByRole('button', { name: /^Revoke/ }).click();
    await page.locator(`.session[data-sid="${sid}"]`).waitFor({ state: 'detached' });
    const refused = await validate(node.url, elsewhere.access_token);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('x-auth-error')).toBe('token_revoked');

    // Sign out everywhere: back to the form with a notice, the page's token refused too.
    const mine = await stored();
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByText('You are signed out everywhere.').waitFor();
    expect(await headingText()).toBe('Sign in');
    expect(await page.evaluate('sessionStorage.getItem("mero-auth.session")')).toBeNull();
    expect((await validate(node.url, mine.access_token)).status).toBe(403);
  });

  it('more than a page of sessions: the first 100, then Show more sessions appends the rest and goes away', async () => {
    await open();
    // 100 sessions elsewhere (meroctl, scripts), eight logins at a time, then the page's own.
    for (let i = 0; i < 100; i += 8) {
      await Promise.all(Array.from({ length: Math.min(8, 100 - i) }, () => loginOk(node.url, 'admin', ADMIN_PASSWORD)));
    }
    await page.goto(loginUrl(node, { 'callback-url': `${app.origin}/cb`, permissions: 'blob:get' }));
    await signIn();
    await page.getByRole('button', { name: 'Sessions' }).click();
    await page.locator('.sessions:not([aria-busy])').waitFor();
    const rows = page.locator('.session');
    expect(await rows.count()).toBe(100);
    const more = page.getByRole('button', { name: 'Show more sessions' });
    await more.click();
    await more.waitFor({ state: 'hidden' });
    expect(await rows.count()).toBe(101);
    const sids = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-sid')));
    expect(new Set(sids).size).toBe(101);
    expect(await page.locator('.session .badge.current').count()).toBe(1);
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByText('You are signed out everywhere.').waitFor();
  });

  it('Revoke on the current session signs this page out; Back returns to the request', async () => {
    await open();
    await page.goto(loginUrl(node, { 'callback-url': `${app.origin}/cb`, permissions: 'blob:get' }));
    await signIn();
    await page.getByRole('button', { name: 'Sessions' }).click();
    await page.locator('.sessions:not([aria-busy])').waitFor();
    await page.getByRole('button', { name: 'Back', exact: true }).click();
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    await page.getByRole('button', { name: 'Sessions' }).click();
    await page.locator('.sessions:not([aria-busy])').waitFor();
    const mine = await stored();
    await page
      .locator('.session', { has: page.locator('.badge.current') })
      .getByRole('button', { name: /^Revoke/ })
      .click();
    await page.getByText('You are signed out.').waitFor();
    expect(await headingText()).toBe('Sign in');
    expect((await validate(node.url, mine.access_token)).status).toBe(403);
  });

  it('app-name: shown as text beside the origin (never as HTML), capped; the origin stays', async () => {
    await open();
    const name = `My <b>App</b>${'x'.repeat(100)}`;
    await page.goto(loginUrl(node, { 'callback-url': `${app.origin}/cb`, 'app-name': name }));
    await page.getByLabel('Username', { exact: true }).waitFor();
    const shown = (await page.locator('.who .app-name').textContent()) ?? '';
    expect(shown.startsWith('My <b>App</b>')).toBe(true);
    expect([...shown]).toHaveLength(61); // 60 characters and an ellipsis
    expect(await page.locator('.who b').count()).toBe(0);
    expect(await page.locator('.who .origin').textContent()).toBe(app.origin);
    await signIn();
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    expect(await headingText()).toBe(`Allow access for ${shown}${app.origin}`); // two blocks: name, then origin
    expect(await page.locator('h1 .origin').textContent()).toBe(app.origin);
  });

  it('follows prefers-color-scheme: dark', async () => {
    await open();
    await page.goto(loginUrl(node, { 'callback-url': `${app.origin}/cb` }));
    await page.getByLabel('Username', { exact: true }).waitFor();
    const colours = () =>
      page.evaluate(
        '(() => { const s = (q) => getComputedStyle(document.querySelector(q)); return [s("html").backgroundColor, s(".card").backgroundColor, s(".card").color]; })()',
      ) as Promise<string[]>;
    await page.emulateMedia({ colorScheme: 'light' });
    const light = await colours();
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await colours();
    expect(light).toEqual(['rgb(238, 241, 246)', 'rgb(255, 255, 255)', 'rgb(27, 31, 39)']);
    expect(dark).toEqual(['rgb(17, 20, 26)', 'rgb(27, 31, 39)', 'rgb(230, 233, 239)']);
    expect(await seriousA11yIssues(page)).toEqual([]); // contrast holds in dark too
  });

  it('German from the browser language; ?lang=en overrides it', async () => {
    await open({ locale: 'de-DE' });
    await page.goto(loginUrl(node, { 'callback-url': `${app.origin}/cb`, permissions: 'blob:get' }));
    await page.getByLabel('Benutzername', { exact: true }).waitFor();
    expect(await headingText()).toBe('Anmelden');
    expect(await page.evaluate('document.documentElement.lang')).toBe('de');
    expect(await page.title()).toBe('Anmelden · Calimero-Knoten');
    expect(await page.locator('.tag').textContent()).toBe('Anmeldung am Knoten');
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.locator('#alert').getByText('Geben Sie Ihren Benutzernamen ein.').waitFor();
    await signIn({ user: 'Benutzername', password: 'Passwort', submit: 'Anmelden' });
    await page.getByRole('button', { name: 'Erlauben' }).waitFor();
    expect(await page.locator('.perm-text').allTextContents()).toEqual(['Gespeicherte Dateien (Blobs) lesen']);
    expect(await page.locator('.account').textContent()).toContain('Angemeldet als admin.');
    expect(await seriousA11yIssues(page)).toEqual([]);

    await page.goto(loginUrl(node, { 'callback-url': `${app.origin}/cb`, lang: 'en' }));
    await page.getByRole('button', { name: 'Approve' }).waitFor(); // same tab: still signed in
    expect(await page.evaluate('document.documentElement.lang')).toBe('en');
  });
});
