/**
 * The login page in a real browser against the real service (issue 5, wire §3.1 and §9):
 * sign-in, consent and the fragment hand-off to a loopback callback; Deny; untrusted
 * callbacks refused before any form; errors, the lockout wait, the no-account case; the page's
 * own session (refresh on token_expired, Sign out via /auth/logout); keyboard-only use, 320 px,
 * no layout shift or double submit while pending; an axe-core scan of every step; and no CSP
 * violation anywhere.
 */
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claims, login, request, validate } from '../e2e/client.js';
import { waitFor } from '../e2e/process.js';
import {
  ADMIN_PASSWORD,
  describeInBrowser,
  focused,
  launchChromium,
  loginUrl,
  NODE_ENV,
  seriousA11yIssues,
  startCallbackServer,
  startNode,
  type CallbackServer,
  type Node,
} from './harness.js';

// The wire message doubles the prefix (wire §3.2 step 12); the page shows it once (issue 12).
const INVALID_CREDENTIALS = 'Authentication failed: Invalid username or password';
const REFUSED = 'This sign-in request was refused';
const SESSION_KEY = 'mero-auth.session';

describeInBrowser('The login page in Chromium, against the real service', () => {
  let browser: Browser;
  let node: Node;
  let app: CallbackServer;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    [browser, node, app] = await Promise.all([
      launchChromium(),
      startNode({ ...NODE_ENV, AUTH__FRONTEND__ALLOWED_CALLBACK_ORIGINS: '["https://app.example.com"]' }),
      startCallbackServer(),
    ]);
    stops.push(() => browser.close(), node.stop, app.close);
  });
  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop().catch(() => {})));
  });

  let context: BrowserContext;
  let page: Page;
  /** CSP violations and page errors of the current test: there must be none. */
  let problems: string[];
  /** `METHOD /path` of every request the page made to the node, its static files left out. */
  let calls: string[];

  async function newPage(viewport = { width: 1024, height: 768 }): Promise<void> {
    context = await browser.newContext({ viewport });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.origin === node.url && !/^\/auth\/(assets\/|favicon\.ico$)/.test(url.pathname))
        calls.push(`${r.method()} ${url.pathname}`);
    });
  }
  beforeEach(async () => {
    problems = [];
    calls = [];
    await newPage();
  });
  afterEach(async () => {
    await context.close();
    expect(problems).toEqual([]);
  });

  const heading = () => page.getByRole('heading', { level: 1 });
  const alert = () => page.locator('#alert');
  async function headingText(): Promise<string> {
    return ((await heading().textContent()) ?? '').replace(/\s+/g, ' ').trim();
  }
  async function expectNoA11yIssues(step: string): Promise<void> {
    expect(await seriousA11yIssues(page), `axe on the ${step} step`).toEqual([]);
  }
  async function signInWithLabels(password = ADMIN_PASSWORD): Promise<void> {
    await page.getByLabel('Username', { exact: true }).fill('admin');
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  async function waitForConsent(origin: string): Promise<void> {
    await page
      .getByRole('heading', {
        level: 1,
        name: new RegExp(`Allow access for\\s*${origin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
      })
      .waitFor();
  }
  /** The fragment's keys in order, and its values decoded. */
  function fragmentOf(url: string): { keys: string[]; values: Record<string, string> } {
    const hash = new URL(url).hash.slice(1);
    const params = new URLSearchParams(hash);
    return { keys: [...params.keys()], values: Object.fromEntries(params) };
  }

  it('full flow: sign in with the labelled fields, consent names the origin and permissions, Approve hands over tokens with exactly those permissions', async () => {
    const callback = `${app.origin}/callback?state=${'ab12'.repeat(16)}`;
    await page.goto(
      loginUrl(node, {
        'callback-url': callback,
        'app-url': node.url,
        permissions: 'application:list,blob:get',
        'package-name': 'com.example.app',
      }),
    );
    await page.getByLabel('Username', { exact: true }).waitFor();
    expect(await headingText()).toBe('Sign in');
    expect(await page.locator('.who .origin').textContent()).toBe(app.origin);
    await expectNoA11yIssues('sign-in');

    const tokenRequest = page.waitForRequest((r) => r.url() === `${node.url}/auth/token`);
    await signInWithLabels();
    // The login body of wire §9, field for field.
    const sent = (await tokenRequest).postDataJSON() as Record<string, unknown>;
    expect(Object.keys(sent)).toEqual(['auth_method', 'public_key', 'client_name', 'timestamp', 'permissions', 'provider_data']);
    expect(sent).toEqual({
      auth_method: 'user_password',
      public_key: 'admin',
      client_name: loginUrl(node, {
        'callback-url': callback,
        'app-url': node.url,
        permissions: 'application:list,blob:get',
        'package-name': 'com.example.app',
      }),
      timestamp: expect.any(Number),
      permissions: [],
      provider_data: { username: 'admin', password: ADMIN_PASSWORD },
    });
    expect(sent.timestamp as number).toBeGreaterThan(1e12); // milliseconds

    await waitForConsent(app.origin);
    expect(await page.locator('.perm-raw').allTextContents()).toEqual(['application:list', 'blob:get']);
    expect(await page.locator('.perm-text').allTextContents()).toEqual([
      'See which applications are installed',
      'Read stored files (blobs)',
    ]);
    expect(await page.locator('.badge').count()).toBe(0);
    expect(await page.locator('.account').textContent()).toContain('Signed in as admin');
    await expectNoA11yIssues('consent');

    await Promise.all([page.waitForURL((u) => u.origin === app.origin), page.getByRole('button', { name: 'Approve' }).click()]);
    const landed = new URL(page.url());
    expect(`${landed.origin}${landed.pathname}${landed.search}`).toBe(callback); // the callback's query kept as it was
    const { keys, values } = fragmentOf(page.url());
    expect(keys).toEqual(['access_token', 'refresh_token', 'node_url']);
    expect(values.node_url).toBe(node.url);
    expect(page.url().split('#')).toHaveLength(2);

    const checked = await validate(node.url, values.access_token ?? '');
    expect(checked.status, checked.text).toBe(200);
    expect(checked.headers.get('x-auth-permissions')).toBe('application:list,blob:get');
    expect(claims(values.access_token ?? '').permissions).toEqual(['application:list', 'blob:get']);
    expect(claims(values.refresh_token ?? '').token_type).toBe('refresh');
    expect(calls).toContain('POST /admin/client-key');
    expect(calls.some((c) => c.includes('/admin/revoke'))).toBe(false);
  });

  it('context-id and context-identity: bound into the key and handed back in order; a fragment already on the callback is replaced; a loopback app-url is the node_url', async () => {
    const callback = `http://localhost:${app.port}/cb?state=s1#access_token=planted&x=1`;
    const appUrl = `http://localhost:${node.port}`;
    await page.goto(
      loginUrl(node, {
        'callback-url': callback,
        permissions: 'context:execute',
        'context-id': 'ctx-1',
        'context-identity': 'id-1',
        'app-url': appUrl,
      }),
    );
    await signInWithLabels();
    await waitForConsent(`http://localhost:${app.port}`);
    expect(await page.getByText('Tied to context').textContent()).toBe('Tied to context ctx-1 as identity id-1.');

    await Promise.all([
      page.waitForURL((u) => u.port === String(app.port)),
      page.getByRole('button', { name: 'Approve' }).click(),
    ]);
    expect(page.url().split('#')).toHaveLength(2);
    expect(page.url().startsWith(`http://localhost:${app.port}/cb?state=s1#access_token=`)).toBe(true);
    const { keys, values } = fragmentOf(page.url());
    expect(keys).toEqual(['access_token', 'refresh_token', 'context_id', 'context_identity', 'node_url']);
    expect(values).toMatchObject({ context_id: 'ctx-1', context_identity: 'id-1', node_url: appUrl });
    expect(page.url()).toContain(`&node_url=${encodeURIComponent(appUrl)}`);
    const checked = await validate(node.url, values.access_token ?? '');
    expect(checked.status, checked.text).toBe(200);
    expect(checked.headers.get('x-auth-permissions')).toBe('context[ctx-1,id-1],context:execute');
  });

  it('Deny lands on the callback with #error=access_denied and mints nothing', async () => {
    const callback = `${app.origin}/cb?state=deny#old`;
    await page.goto(loginUrl(node, { 'callback-url': callback, permissions: 'admin' }));
    await signInWithLabels();
    await waitForConsent(app.origin);
    // `admin` is marked as high risk, with a warning naming who asks.
    expect(await page.locator('.perm.high .badge').allTextContents()).toEqual(['High risk']);
    expect(await page.locator('.warning').textContent()).toContain(app.origin);
    await Promise.all([page.waitForURL((u) => u.origin === app.origin), page.getByRole('button', { name: 'Deny' }).click()]);
    expect(page.url()).toBe(`${app.origin}/cb?state=deny#error=access_denied`);
    expect(calls).not.toContain('POST /admin/client-key');
  });

  it.each([
    ['https://evil.example/cb', 'https://evil.example'],
    ['javascript:alert(1)', 'javascript:alert(1)'],
    ['//evil.example', '//evil.example'],
    ['data:text/html,<script>alert(1)</script>', 'data:text/html'],
    ['http://127.0.0.1.evil.example/cb', 'http://127.0.0.1.evil.example'],
    ['', 'callback-url'],
  ])('an untrusted callback %j is refused before any sign-in form', async (cb, shown) => {
    const url =
      cb === '' ? loginUrl(node, { permissions: 'admin' }) : loginUrl(node, { 'callback-url': cb, permissions: 'admin' });
    await page.goto(url);
    await page.getByRole('heading', { level: 1, name: REFUSED }).waitFor();
    expect(await page.locator('main').textContent()).toContain(shown);
    expect(await page.locator('input').count()).toBe(0);
    expect(await page.getByRole('button').count()).toBe(0);
    expect(await page.evaluate(`sessionStorage.getItem(${JSON.stringify(SESSION_KEY)})`)).toBeNull();
    expect(calls).toEqual(['GET /auth/login']); // not even /auth/providers
    if (cb === 'https://evil.example/cb') await expectNoA11yIssues('refused');
  });

  it('an origin listed in frontend.allowed_callback_origins is trusted', async () => {
    await page.goto(loginUrl(node, { 'callback-url': 'https://app.example.com/after-login', permissions: 'blob:get' }));
    await page.getByLabel('Password', { exact: true }).waitFor();
    expect(await page.locator('.who .origin').textContent()).toBe('https://app.example.com');
  });

  it('a wrong password shows the server message in the live region, takes the focus there, and leaves the form usable', async () => {
    await page.goto(loginUrl(node, { 'callback-url': `${app.origin}/cb`, permissions: 'blob:get' }));
    await signInWithLabels('not the password');
    await alert().getByText(INVALID_CREDENTIALS).waitFor();
    expect(await alert().textContent()).toBe(INVALID_CREDENTIALS); // exactly: the prefix once
    expect(await alert().getAttribute('role')).toBe('alert');
    expect((await focused(page)).id).toBe('alert');
    expect(await page.getByLabel('Password', { exact: true }).inputValue()).toBe('');
    expect(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('button', { name: 'Sign in' }).getAttribute('aria-busy')).toBeNull();
    await expectNoA11yIssues('sign-in error');

    await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await waitForConsent(app.origin);
    expect(await alert().textContent()).toBe('');
  });

  it('empty fields are caught on the page, without a request', async () => {
    await page.goto(loginUrl(node, { 'callback-url': `${app.origin}/cb` }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await alert().getByText('Enter your username.').waitFor();
    await page.getByLabel('Username', { exact: true }).fill('admin');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await alert().getByText('Enter your password.').waitFor();
    expect(calls).not.toContain('POST /auth/token');
  });

  it('a locked-out username shows the wait time from Retry-After (429)', async () => {
    for (let i = 0; i < 5; i++) expect((await login(node.url, 'ghost', 'wrong')).status).toBe(401);
    await page.goto(loginUrl(node, { 'callback-url': `${app.origin}/cb` }));
    await page.getByLabel('Username', { exact: true }).fill('ghost');
    await page.getByLabel('Password', { exact: true }).fill('wrong again');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const text = (await alert().getByText('Too many failed login attempts').textContent()) ?? '';
    expect(text).toMatch(/^Too many failed login attempts; please try again later\. Try again in \d+ seconds?\.$/);
  });

  it('the whole happy path by keyboard alone, the focus on each step’s heading', async () => {
    const callback = `${app.origin}/keyboard?state=k`;
    await page.goto(loginUrl(node, { 'callback-url': callback, permissions: 'keys:list' }));
    await page.getByLabel('Username', { exact: true }).waitFor();
    expect(await focused(page)).toMatchObject({ tag: 'H1', text: 'Sign in' });
    await page.keyboard.press('Tab');
    expect((await focused(page)).id).toBe('username');
    await page.keyboard.type('admin');
    await page.keyboard.press('Tab');
    expect((await focused(page)).id).toBe('password');
    await page.keyboard.type(ADMIN_PASSWORD);
    await page.keyboard.press('Enter');
    await waitForConsent(app.origin);
    expect((await focused(page)).tag).toBe('H1');
    for (let i = 0; i < 5 && (await focused(page)).text !== 'Approve'; i++) await page.keyboard.press('Tab');
    expect((await focused(page)).text).toBe('Approve');
    await Promise.all([page.waitForURL((u) => u.origin === app.origin), page.keyboard.press('Enter')]);
    const { values } = fragmentOf(page.url());
    const checked = await validate(node.url, values.access_token ?? '');
    expect(checked.status, checked.text).toBe(200);
    expect(checked.headers.get('x-auth-permissions')).toBe('keys:list');
  });

  it('the session lives in sessionStorage only and survives a reload; Sign out ends it with /auth/logout, never /admin/revoke', async () => {
    const url = loginUrl(node, { 'callback-url': `${app.origin}/cb`, permissions: 'blob:get' });
    await page.goto(url);
    await signInWithLabels();
    await waitForConsent(app.origin);
    const stored = JSON.parse((await page.evaluate(`sessionStorage.getItem(${JSON.stringify(SESSION_KEY)})`)) as string) as {
      access_token: string;
      refresh_token: string;
      username: string;
    };
    expect(stored.username).toBe('admin');
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(await context.cookies()).toEqual([]);

    await page.reload();
    await waitForConsent(app.origin); // straight to consent: no form
    expect(calls.filter((c) => c === 'POST /auth/token')).toHaveLength(1);
    expect(calls).toContain('HEAD /auth/validate');

    const logout = page.waitForRequest((r) => r.url() === `${node.url}/auth/logout`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect((await logout).postDataJSON()).toEqual({ refresh_token: stored.refresh_token });
    await page.getByText('You are signed out.').waitFor();
    expect(await headingText()).toBe('Sign in');
    expect(await page.evaluate(`sessionStorage.getItem(${JSON.stringify(SESSION_KEY)})`)).toBeNull();
    expect(calls.some((c) => c.includes('/admin/revoke'))).toBe(false);

    // The session is over on the node; the account is not (a fresh sign-in works).
    const old = await request(`${node.url}/auth/validate`, { headers: { authorization: `Bearer ${stored.access_token}` } });
    expect(old.status, old.text).toBe(403);
    expect(old.headers.get('x-auth-error')).toBe('token_revoked');
    await signInWithLabels();
    await waitForConsent(app.origin);
  });

  it('at 320 px: no horizontal scrolling; while a request is pending the button keeps its box, shows progress, and a second press sends nothing', async () => {
    await context.close();
    await newPage({ width: 320, height: 640 });
    const scrollWidth = () => page.evaluate('document.documentElement.scrollWidth') as Promise<number>;
    await page.goto(
      loginUrl(node, {
        'callback-url': `${app.origin}/narrow?state=${'f'.repeat(64)}`,
        permissions: 'admin,keys:create,context:execute[some-long-context-id,some-long-identity]',
      }),
    );
    await page.getByLabel('Username', { exact: true }).fill('admin');
    await page.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
    expect(await scrollWidth()).toBeLessThanOrEqual(320);
    await expectNoA11yIssues('sign-in at 320 px');

    // Hold each request until the pending state has been looked at.
    const held = new Map<string, { route: Route; count: number }>();
    const arrived = new Map<string, () => void>();
    for (const path of ['/auth/token', '/admin/client-key']) {
      await page.route(`${node.url}${path}`, (route) => {
        const entry = held.get(path);
        held.set(path, { route, count: (entry?.count ?? 0) + 1 });
        arrived.get(path)?.();
      });
    }
    const arrival = (path: string) => new Promise<void>((resolve) => arrived.set(path, resolve));

    const submit = page.getByRole('button', { name: 'Sign in' });
    await submit.scrollIntoViewIfNeeded();
    const before = await submit.boundingBox();
    const tokenArrived = arrival('/auth/token');
    await submit.click();
    await tokenArrived;
    const busy = page.locator('button[aria-busy="true"]');
    expect(await busy.textContent()).toContain('Signing in…');
    expect(await busy.boundingBox()).toEqual(before);
    await busy.click({ force: true }); // aria-disabled: pressed anyway, ignored by the page
    await page.getByLabel('Password', { exact: true }).press('Enter');
    expect(held.get('/auth/token')?.count).toBe(1);
    await held.get('/auth/token')?.route.continue();

    await waitForConsent(app.origin);
    expect(await page.locator('.perm.high').count()).toBe(2);
    expect(await scrollWidth()).toBeLessThanOrEqual(320);
    await expectNoA11yIssues('consent at 320 px');

    const approve = page.getByRole('button', { name: 'Approve' });
    await approve.scrollIntoViewIfNeeded(); // boxes are viewport-relative: measure where the click happens
    const approveBox = await approve.boundingBox();
    const mintArrived = arrival('/admin/client-key');
    await approve.click();
    await mintArrived;
    expect(await page.locator('button[aria-busy="true"]').boundingBox()).toEqual(approveBox);
    expect(await page.locator('button[aria-busy="true"]').textContent()).toContain('Approving…');
    await page.locator('button[aria-busy="true"]').click({ force: true });
    await page.getByRole('button', { name: 'Deny' }).click({ force: true }); // ignored while approving
    expect(held.get('/admin/client-key')?.count).toBe(1);
    expect(page.url().startsWith(node.url)).toBe(true);
    await Promise.all([page.waitForURL((u) => u.origin === app.origin), held.get('/admin/client-key')?.route.continue()]);
    expect(fragmentOf(page.url()).keys[0]).toBe('access_token');
  });

  it('the checks themselves work: axe reports a real problem, and a CSP violation is caught', async () => {
    await page.setContent('<!doctype html><html lang="en"><title>t</title><main><img src="data:,"></main></html>');
    expect((await seriousA11yIssues(page)).join('\n')).toContain('image-alt');

    await page.goto(loginUrl(node, { 'callback-url': `${app.origin}/cb` }));
    await page.getByLabel('Username', { exact: true }).waitFor();
    const violation = page.waitForEvent('console', (m) => /Content.Security.Policy/i.test(m.text()));
    await page.evaluate('document.body.setAttribute("style", "color: red")'); // inline style: refused
    await violation;
    expect(problems.length).toBeGreaterThan(0);
    problems.length = 0;
  });

  describe('other nodes', () => {
    it('no account configured: how the operator creates one, and no form', async () => {
      const bare = await startNode({
        AUTH__USER_PASSWORD__ARGON2__MEMORY_KIB: '7168',
        AUTH__USER_PASSWORD__ARGON2__ITERATIONS: '5',
      });
      stops.push(bare.stop);
      await page.goto(loginUrl(bare, { 'callback-url': `${app.origin}/cb`, permissions: 'admin' }));
      await page.getByRole('heading', { level: 1, name: 'No account has been set up yet' }).waitFor();
      const text = (await page.locator('main').textContent()) ?? '';
      for (const hint of [
        'mero-auth set-admin',
        'MERO_AUTH_ADMIN_USER',
        'MERO_AUTH_ADMIN_PASSWORD',
        'MERO_AUTH_ADMIN_PASSWORD_FILE',
      ]) {
        expect(text).toContain(hint);
      }
      expect(await page.locator('input').count()).toBe(0);
      await expectNoA11yIssues('no account');
    });

    it('the page refreshes its own session after a 401 token_expired and carries on', async () => {
      const quick = await startNode({ ...NODE_ENV, AUTH__JWT__ACCESS_TOKEN_EXPIRY: '1', AUTH__JWT__LEEWAY_SECONDS: '0' });
      stops.push(quick.stop);
      const statuses: string[] = [];
      page.on('response', (r) => {
        const u = new URL(r.url());
        if (u.origin === quick.url) statuses.push(`${r.request().method()} ${u.pathname} ${r.status()}`);
      });
      await page.goto(loginUrl(quick, { 'callback-url': `${app.origin}/cb`, permissions: 'blob:get' }));
      await signInWithLabels();
      await waitForConsent(app.origin);
      const stored = JSON.parse((await page.evaluate(`sessionStorage.getItem(${JSON.stringify(SESSION_KEY)})`)) as string) as {
        access_token: string;
      };
      // Wait for the state "the page's access token has expired".
      await waitFor(async () => {
        const r = await validate(quick.url, stored.access_token, 'HEAD');
        return r.headers.get('x-auth-error') === 'token_expired' ? r : undefined;
      }, 'the page’s access token to expire');

      await Promise.all([page.waitForURL((u) => u.origin === app.origin), page.getByRole('button', { name: 'Approve' }).click()]);
      expect(statuses.filter((s) => !/^GET \/auth\/(login|assets\/|favicon)/.test(s))).toEqual([
        'GET /auth/providers 200',
        'POST /auth/token 200',
        'POST /admin/client-key 401',
        'POST /auth/refresh 200',
        'POST /admin/client-key 200',
      ]);
      expect(fragmentOf(page.url()).keys).toEqual(['access_token', 'refresh_token', 'node_url']);
    });
  });
});
