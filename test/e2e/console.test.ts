// The web console in a real headless Chromium against the built server: log in, watch a
// phone registered by SIPp appear live (from the event stream: the page is already open),
// filter, open the details with the raw REGISTER, force-unregister it, and check what a
// read-only user is offered. Screenshots of every page at 1366×768 are saved under
// test-output/screenshots/ (git-ignored; $ROLLCALL_E2E_SCREENSHOTS names another folder) to
// look at after a run.

import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, rollcall, ROOT, startServer, tempDataDir, type ServerProcess } from '../support/rollcall-process.js';
import { injectionFile, runSipp, scenario, SIPP_AVAILABLE, SIPP_SKIP_REASON } from '../support/sipp.js';
import { NFT_SKIP_REASON } from '../support/nft.js';
import { waitForHttpUrl } from './console-server.js';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const CHROMIUM_SKIP_REASON = `${CHROMIUM} is missing (Debian package chromium; .ci/run installs it)`;
if (!HAS_CHROMIUM) console.warn(`skipping the web console end-to-end tests: ${CHROMIUM_SKIP_REASON}`);
if (HAS_CHROMIUM && !SIPP_AVAILABLE) console.warn(`skipping the console tests that register a phone: ${SIPP_SKIP_REASON}`);

const DOMAIN = 'console.test';
const ADMIN_PW = 'correct-horse-battery';
const VIEWER_PW = 'read-only-battery-staple';
const VIEWPORT = { width: 1366, height: 768 };

const row = (page: Page, number: string) => page.locator(`[data-testid="registration-row"][data-number="${number}"]`);

describe.skipIf(!HAS_CHROMIUM)('web console in a real browser', () => {
  let dataDir: string;
  let server: ServerProcess;
  let url: string;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  let shots: string;
  const pageErrors: string[] = [];

  function watchErrors(p: Page, who: string): void {
    p.on('pageerror', (e) => pageErrors.push(`${who}: ${e.message}`));
    p.on('console', (m) => {
      // A failed request is logged by Chromium as a console error; the tests provoke 401s
      // (wrong password) and 429s (lockout) on purpose, so only script errors count.
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(`${who}: ${m.text()}`);
    });
  }

  async function logIn(p: Page, user: string, password: string): Promise<void> {
    await p.goto(url);
    await p.getByTestId('login-form').waitFor();
    await p.getByTestId('login-username').fill(user);
    await p.getByTestId('login-password').fill(password);
    await p.getByTestId('login-submit').click();
    await p.getByTestId('registrations-table').waitFor();
  }

  function register(...numbers: string[]) {
    return runSipp({
      scenario: scenario('register'),
      target: `127.0.0.1:${server.port('UDP')}`,
      transport: 'udp',
      inf: injectionFile(numbers.map((n) => ({ username: n, password: `pw-${n}`, domain: DOMAIN }))),
      calls: numbers.length,
      rate: 10,
      timeoutSeconds: 20,
    });
  }

  beforeAll(async () => {
    dataDir = tempDataDir('e2e');
    shots = process.env['ROLLCALL_E2E_SCREENSHOTS'] ?? join(ROOT, 'test-output', 'screenshots');
    mkdirSync(shots, { recursive: true });
    for (const [name, role, pw] of [['admin', 'admin', ADMIN_PW], ['viewer', 'read-only', VIEWER_PW]] as const) {
      const r = rollcall(['users', 'add', name, '--role', role, '--password', pw, '--data-dir', dataDir]);
      expect(r.status, r.stderr).toBe(0);
    }
    for (const [n, customer] of [['1001', 'acme'], ['1002', 'acme'], ['1003', 'globex']] as const) {
      const r = rollcall(['accounts', 'add', n, '--domain', DOMAIN, '--password', `pw-${n}`, '--customer', customer, '--data-dir', dataDir]);
      expect(r.status, r.stderr).toBe(0);
    }
    server = await startServer({ dataDir, domains: [DOMAIN], extra: ['--http', '127.0.0.1:0'] });
    url = await waitForHttpUrl(server);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    admin = await browser.newContext({ viewport: VIEWPORT });
    page = await admin.newPage();
    page.setDefaultTimeout(15_000);
    watchErrors(page, 'admin');
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir) removeDir(dataDir);
    if (shots) console.info(`console screenshots saved in ${shots}`);
  });

  it('shows the login page, says so for a wrong password, then logs in to an empty table', async () => {
    await page.goto(url);
    await page.getByTestId('login-form').waitFor();
    await page.getByTestId('login-username').fill('admin');
    await page.getByTestId('login-password').fill('not-the-password');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').waitFor();
    expect(await page.getByTestId('login-error').textContent()).toContain('Wrong user name or password');
    await page.screenshot({ path: join(shots, 'login.png') });

    await page.getByTestId('login-password').fill(ADMIN_PW);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('registrations-table').waitFor();
    expect(await page.getByTestId('whoami').textContent()).toMatch(/admin\s*admin/);
    expect(await page.getByTestId('empty-state').textContent()).toContain('No phones are registered');
    for (const nav of ['registrations', 'history', 'accounts', 'security', 'settings', 'users', 'audit']) {
      expect(await page.getByTestId(`nav-${nav}`).count(), nav).toBe(1);
    }
    // A reload keeps the session (GET /api/session), not the login page.
    await page.reload();
    await page.getByTestId('registrations-table').waitFor();
  });

  it.skipIf(!SIPP_AVAILABLE)('a phone registering while the page is open appears in the table live, counting down', async () => {
    await expect.poll(() => page.getByTestId('live-state').textContent(), { timeout: 10_000 }).toBe('Live');
    expect(await row(page, '1001').count()).toBe(0);

    const run = await register('1001');
    expect(run.status, run.errors || run.stdout).toBe(0);

    // No reload, no click: the stream's `registration` event refreshes the page.
    await row(page, '1001').waitFor({ timeout: 10_000 });
    const r = row(page, '1001');
    const text = (await r.textContent()) ?? '';
    expect(text).toContain('acme');
    expect(text).toContain('127.0.0.1:');
    expect(text).toContain('UDP');
    expect(text).toContain('SIPp interop test');
    expect(await r.getByTestId('status').textContent()).toBe('Registered');
    const first = await r.getByTestId('remaining').textContent();
    expect(first).toMatch(/^(1:00:00|59:[0-5]\d)$/);
    await expect.poll(() => r.getByTestId('remaining').textContent(), { timeout: 5000 }).not.toBe(first);
    // The header's counters come from the stream's `stats` events.
    await expect.poll(() => page.getByTestId('stat-registered').textContent(), { timeout: 5000 }).toBe('1');
    expect(await page.getByTestId('stat-unreachable').textContent()).toBe('0');
  });

  it.skipIf(!SIPP_AVAILABLE)('filters by IP wildcard: 127.0.0.x shows the phone, 10.x.x.x the empty state', async () => {
    const ip = page.getByTestId('filter-ip');
    await ip.fill('127.0.0.x');
    await expect.poll(() => page.getByTestId('total').textContent()).toMatch(/^1 matching binding$/);
    expect(await row(page, '1001').count()).toBe(1);

    // The export links carry the same filters.
    const csvHref = (await page.getByTestId('export-csv').getAttribute('href'))!;
    expect(csvHref).toContain('ip=127.0.0.x');
    const csv = await page.evaluate(async (h) => (await fetch(h)).text(), csvHref);
    const lines = csv.trim().split(/\r?\n/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^1001,/);
    const jsonHref = (await page.getByTestId('export-json').getAttribute('href'))!;
    const exported = JSON.parse(await page.evaluate(async (h) => (await fetch(h)).text(), jsonHref)) as Array<{ number: string }>;
    expect(exported.map((r) => r.number)).toEqual(['1001']);

    await ip.fill('10.x.x.x');
    await page.getByTestId('empty-state').waitFor();
    expect(await page.getByTestId('empty-state').textContent()).toBe('No registrations match these filters.');
    expect(await row(page, '1001').count()).toBe(0);

    await page.getByTestId('filter-clear').click();
    await row(page, '1001').waitFor();
  });

  it.skipIf(!SIPP_AVAILABLE)('filters by reachability: the SIPp phone (not behind NAT, so not pinged) is unknown, never unreachable', async () => {
    expect(await row(page, '1001').getByTestId('reachability').getAttribute('class')).toBe('reach reach-unknown');
    const reach = page.getByTestId('filter-reachability');
    await reach.selectOption('unreachable');
    await page.getByTestId('empty-state').waitFor();
    expect(await row(page, '1001').count()).toBe(0);
    await reach.selectOption('unknown');
    await expect.poll(() => page.getByTestId('total').textContent()).toMatch(/^1 matching binding$/);
    await page.getByTestId('filter-clear').click();
    await row(page, '1001').waitFor();
  });

  it.skipIf(!SIPP_AVAILABLE)('opens the details with every field, the raw REGISTER and its 200 OK; Escape closes them', async () => {
    await row(page, '1001').getByTestId('row-details').click();
    const drawer = page.getByTestId('registration-drawer');
    await drawer.getByTestId('last-request').waitFor();
    expect(await drawer.getByTestId('last-request').textContent()).toContain(`REGISTER sip:${DOMAIN}`);
    expect(await drawer.getByTestId('last-response').textContent()).toMatch(/^SIP\/2\.0 200 OK/);
    const fields = (await drawer.getByTestId('drawer-fields').textContent()) ?? '';
    expect(fields).toContain(`sip:1001@${DOMAIN}`);
    expect(fields).toContain('SIPp interop test');
    expect(fields).toMatch(/Received \(requests go to\)127\.0\.0\.1:\d+/);
    expect(fields).toContain('Reachabilityunknown');
    await drawer.getByTestId('event-row').first().waitFor();
    expect(await drawer.getByTestId('drawer-history').textContent()).toContain('registered');
    await page.screenshot({ path: join(shots, 'registration-details.png') });

    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });
  });

  it.skipIf(!SIPP_AVAILABLE)('screenshot of the registrations page at 1366×768', async () => {
    const run = await register('1002', '1003');
    expect(run.status, run.errors || run.stdout).toBe(0);
    await row(page, '1003').waitFor();
    // Sorting is the server's: by number descending, then ascending again.
    const numbers = () => page.getByTestId('registration-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-number')));
    await page.getByTestId('sort-number').click();
    await expect.poll(numbers).toEqual(['1003', '1002', '1001']);
    await page.getByTestId('sort-number').click();
    await expect.poll(numbers).toEqual(['1001', '1002', '1003']);

    const file = join(shots, 'registrations.png');
    await page.screenshot({ path: file });
    expect(statSync(file).size).toBeGreaterThan(10_000);
    // Every column fits at 1366×768: no sideways scrolling to see a phone's status.
    const table = page.getByTestId('registrations-table');
    const fit = await table.evaluate((t) => ({ table: t.scrollWidth, frame: t.parentElement!.clientWidth }));
    expect(fit.table).toBeLessThanOrEqual(fit.frame);
  });

  it('a read-only user sees the table but no unregister button, and no admin pages', async () => {
    const ctx = await browser.newContext({ viewport: VIEWPORT });
    try {
      const viewer = await ctx.newPage();
      viewer.setDefaultTimeout(15_000);
      watchErrors(viewer, 'viewer');
      await logIn(viewer, 'viewer', VIEWER_PW);
      expect(await viewer.getByTestId('whoami').textContent()).toContain('read-only');
      if (SIPP_AVAILABLE) {
        await row(viewer, '1001').waitFor();
        expect(await viewer.getByTestId('row-details').count()).toBeGreaterThan(0);
      }
      expect(await viewer.getByTestId('row-unregister').count()).toBe(0);
      expect(await viewer.getByTestId('nav-users').count()).toBe(0);
      expect(await viewer.getByTestId('nav-audit').count()).toBe(0);
      await viewer.getByTestId('nav-accounts').click();
      await viewer.getByTestId('accounts-table').waitFor();
      expect(await viewer.getByTestId('accounts-create').count()).toBe(0);
      expect(await viewer.getByTestId('account-delete').count()).toBe(0);
      await viewer.getByTestId('nav-settings').click();
      await viewer.getByTestId('settings-form').waitFor();
      expect(await viewer.getByTestId('settings-save').count()).toBe(0);
      await viewer.getByTestId('nav-security').click();
      await viewer.getByTestId('security-page').waitFor();
      await viewer.getByTestId('blocks-table').waitFor();
      await viewer.getByTestId('failure-counts').waitFor();
      for (const id of ['block-form', 'list-form', 'block-unblock', 'list-remove']) expect(await viewer.getByTestId(id).count(), id).toBe(0);
    } finally {
      await ctx.close();
    }
  });

  it.skipIf(!SIPP_AVAILABLE)('force unregister asks first, then the row disappears and the audit log has it', async () => {
    const unregister = row(page, '1001').getByTestId('row-unregister');
    await unregister.click();
    const dialog = page.getByTestId('unregister-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(`sip:1001@${DOMAIN}`);
    await dialog.getByTestId('confirm-cancel').click();
    await dialog.waitFor({ state: 'detached' });
    expect(await row(page, '1001').count()).toBe(1);

    await unregister.click();
    await dialog.waitFor();
    await dialog.getByTestId('terminate-calls').check();
    await page.screenshot({ path: join(shots, 'unregister-dialog.png') });
    await dialog.getByTestId('confirm-ok').click();
    await dialog.waitFor({ state: 'detached' });
    await row(page, '1001').waitFor({ state: 'detached' });
    expect(await page.getByTestId('notice').textContent()).toContain(`Removed 1 binding of sip:1001@${DOMAIN}`);
    expect(await row(page, '1002').count()).toBe(1);

    await page.getByTestId('nav-audit').click();
    await page.getByTestId('audit-table').waitFor();
    await expect.poll(async () => (await page.getByTestId('audit-table').textContent()) ?? '').toMatch(/unregister/i);

    // …and the history has the removal.
    await page.getByTestId('nav-history').click();
    await page.getByTestId('history-table').waitFor();
    await page.getByTestId('history-number').fill('1001');
    await page.getByTestId('history-type').selectOption('force-removed');
    await expect.poll(() => page.getByTestId('event-row').count()).toBe(1);
    const removal = (await page.getByTestId('event-row').first().textContent()) ?? '';
    expect(removal).toContain('force-removed');
    expect(removal).toContain('by admin');
    await page.screenshot({ path: join(shots, 'history-force-removed.png') });
    await page.getByTestId('history-number').fill('');
    await page.getByTestId('history-type').selectOption('');
  });

  it('every section opens from the navigation and shows its data', async () => {
    const sections: Array<[string, string, string]> = [
      ['history', 'history-table', SIPP_AVAILABLE ? 'event-row' : 'empty-state'],
      ['accounts', 'accounts-table', 'account-row'],
      ['settings', 'settings-form', 'setting-registrar.maxBindings'],
      ['users', 'users-table', 'user-row'],
      ['audit', 'audit-table', 'audit-row'],
      ['registrations', 'registrations-table', SIPP_AVAILABLE ? 'registration-row' : 'empty-state'],
    ];
    for (const [nav, container, item] of sections) {
      await page.getByTestId(`nav-${nav}`).click();
      await page.getByTestId(container).waitFor();
      await page.getByTestId(item).first().waitFor();
      expect(page.url()).toContain(`#/${nav}`);
      await page.screenshot({ path: join(shots, `${nav}.png`) });
    }
    await page.getByTestId('nav-accounts').click();
    await expect.poll(() => page.getByTestId('account-row').count()).toBe(3);
    await page.getByTestId('nav-users').click();
    await page.locator('[data-testid="user-row"][data-name="viewer"]').waitFor();
  });

  it("system parameters: the server's refusal is shown next to the form, a good value is saved", async () => {
    await page.getByTestId('nav-settings').click();
    // Each value alone is valid (the browser lets it through); together they break a rule
    // of the schema that only the server checks.
    const min = page.getByTestId('setting-registrar.minExpires');
    await min.waitFor();
    await min.fill('9000');
    await page.getByTestId('settings-save').click();
    await page.getByTestId('settings-error').waitFor();
    expect(await page.getByTestId('settings-error').textContent()).toContain('minExpires (9000) must not exceed maxExpires (7200)');
    await page.getByRole('button', { name: 'Discard changes' }).click();
    expect(await min.inputValue()).toBe('60');

    const field = page.getByTestId('setting-registrar.maxBindings');
    await field.fill('3');
    await page.getByTestId('settings-save').click();
    await page.getByTestId('notice').waitFor();
    expect(await page.getByTestId('notice').textContent()).toContain('Saved registrar.maxBindings');
    await page.reload();
    await page.getByTestId('setting-registrar.maxBindings').waitFor();
    expect(await page.getByTestId('setting-registrar.maxBindings').inputValue()).toBe('3');
  });

  it('accounts: an account created from the form is listed', async () => {
    await page.getByTestId('nav-accounts').click();
    await page.getByTestId('accounts-create').click();
    const dialog = page.getByTestId('account-dialog');
    await dialog.getByTestId('account-username').fill('2001');
    await dialog.getByTestId('account-domain').fill(DOMAIN);
    await dialog.getByTestId('account-password-input').fill('pw-2001-long-enough');
    await dialog.getByTestId('account-customer').fill('initech');
    await dialog.getByTestId('account-save').click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('[data-testid="account-row"][data-username="2001"]').waitFor();
    expect(await page.getByTestId('notice').textContent()).toContain(`Created 2001@${DOMAIN}`);

    // Edit: disable it and give it its own binding limit.
    const acct = page.locator('[data-testid="account-row"][data-username="2001"]');
    await acct.getByTestId('account-edit').click();
    await dialog.getByTestId('account-enabled').uncheck();
    await dialog.getByLabel('Max bindings').fill('2');
    await dialog.getByTestId('account-save').click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(async () => (await acct.textContent()) ?? '').toMatch(/disabled.*2/i);
  });

  it('accounts: a CSV import adds every line, a bad file is refused naming its line', async () => {
    await page.getByTestId('nav-accounts').click();
    await page.getByTestId('accounts-import').click();
    const dialog = page.getByTestId('import-dialog');
    const bad = 'username,domain,password,customer\n3001,console.test,pw-3001,initech\n,console.test,pw,initech\n';
    await dialog.getByTestId('import-file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    await dialog.getByTestId('import-submit').click();
    await dialog.getByTestId('import-error').waitFor();
    expect(await dialog.getByTestId('import-error').textContent()).toContain('line 3');

    const good = ['username,domain,password,customer', ...Array.from({ length: 30 }, (_, i) => `${3001 + i},${DOMAIN},pw-${3001 + i},initech`)].join('\n');
    await dialog.getByTestId('import-file').setInputFiles({ name: 'good.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
    await dialog.getByTestId('import-submit').click();
    await dialog.waitFor({ state: 'detached' });
    expect(await page.getByTestId('notice').textContent()).toContain('Imported 30 accounts');
    await page.locator('[data-testid="account-row"][data-username="3030"]').waitFor();

    // Cursor paging: 34 accounts, 25 a page.
    await page.getByLabel('Rows').selectOption('25');
    await expect.poll(() => page.getByTestId('pager-info').textContent()).toBe('1–25 of 34 accounts');
    await page.getByTestId('page-next').click();
    await expect.poll(() => page.getByTestId('pager-info').textContent()).toBe('26–34 of 34 accounts');
    expect(await page.getByTestId('account-row').count()).toBe(9);
    expect(await page.getByTestId('page-next').isDisabled()).toBe(true);
    await page.getByTestId('page-previous').click();
    await expect.poll(() => page.getByTestId('pager-info').textContent()).toBe('1–25 of 34 accounts');
  });

  it('users: the password policy is enforced with its message; add, change role, delete', async () => {
    await page.getByTestId('nav-users').click();
    await page.getByTestId('users-add').click();
    const dialog = page.getByTestId('user-dialog');
    await dialog.getByTestId('user-name').fill('op1');
    await dialog.getByTestId('user-role-new').selectOption('operator');
    await dialog.getByTestId('user-password-new').fill('short');
    await dialog.getByTestId('user-save').click();
    await dialog.getByTestId('user-error').waitFor();
    expect(await dialog.getByTestId('user-error').textContent()).toMatch(/password/);
    await dialog.getByTestId('user-password-new').fill('a-long-enough-passphrase');
    await dialog.getByTestId('user-save').click();
    await dialog.waitFor({ state: 'detached' });
    const op = page.locator('[data-testid="user-row"][data-name="op1"]');
    await op.waitFor();
    expect(await op.getByTestId('user-role').inputValue()).toBe('operator');

    await op.getByTestId('user-role').selectOption('read-only');
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('op1 is now read-only');

    await op.getByTestId('user-delete').click();
    await page.getByTestId('confirm-dialog').getByTestId('confirm-ok').click();
    await op.waitFor({ state: 'detached' });
  });

  it('security: block an address and lift it, add a deny entry and remove it, failed registrations counted', async () => {
    if (SIPP_AVAILABLE) {
      const wrong = await runSipp({
        scenario: scenario('wrong-password'),
        target: `127.0.0.1:${server.port('UDP')}`,
        transport: 'udp',
        inf: injectionFile([{ username: '1002', password: 'not-it', domain: DOMAIN }]),
        calls: 1,
        rate: 10,
        timeoutSeconds: 20,
      });
      expect(wrong.status, wrong.errors || wrong.stdout).toBe(0);
    }
    await page.getByTestId('nav-security').click();
    await page.getByTestId('security-page').waitFor();
    expect(page.url()).toContain('#/security');
    await page.getByTestId('blocks-empty').waitFor();
    expect(await page.getByTestId('blocks-empty').textContent()).toBe('No blocks in force.');
    await page.getByTestId('lists-empty').waitFor();
    // Whether the kernel drops blocked sources, as this machine allows.
    await page.getByTestId('kernel-filter').waitFor();
    expect(await page.getByTestId('kernel-filter').textContent()).toMatch(NFT_SKIP_REASON === null ? /^Kernel filter on \(inet rollcall_\d+_[0-9a-f]+\)/ : /^Kernel filter off/);

    // Block an address for an hour, from the form; a bad value gets the server's message.
    const blockForm = page.getByTestId('block-form');
    await blockForm.getByTestId('block-value').fill('not-an-address');
    await blockForm.getByTestId('block-submit').click();
    await page.getByTestId('block-error').waitFor();
    expect(await page.getByTestId('block-error').textContent()).toContain('not an IP address');
    await blockForm.getByTestId('block-value').fill('198.51.100.7');
    await blockForm.getByTestId('block-duration').selectOption({ label: '1 h' });
    await blockForm.getByTestId('block-reason').fill('e2e: scanning us');
    await blockForm.getByTestId('block-submit').click();
    const blocked = page.locator('[data-testid="block-row"][data-value="198.51.100.7"]');
    await blocked.waitFor();
    expect(await page.getByTestId('block-error').count()).toBe(0);
    const blockText = (await blocked.textContent()) ?? '';
    expect(blockText).toContain('e2e: scanning us');
    expect(blockText).toContain('admin');
    expect(blockText).not.toContain('until removed');
    expect(await page.getByTestId('notice').textContent()).toContain('Blocked address 198.51.100.7');

    // A deny entry for a network; the same again is refused (409) with the server's message,
    // next to the form.
    const listForm = page.getByTestId('list-form');
    await listForm.getByTestId('list-list').selectOption('deny');
    await listForm.getByTestId('list-cidr').fill('203.0.113.0/24');
    await listForm.getByTestId('list-note').fill('e2e: bad network');
    await listForm.getByTestId('list-submit').click();
    const denied = page.locator('[data-testid="list-row"][data-cidr="203.0.113.0/24"]');
    await denied.waitFor();
    const listText = (await denied.textContent()) ?? '';
    expect(listText).toContain('deny');
    expect(listText).toContain('all');
    expect(listText).toContain('e2e: bad network');
    await listForm.getByTestId('list-cidr').fill('203.0.113.0/24');
    await listForm.getByTestId('list-submit').click();
    await page.getByTestId('list-error').waitFor();
    expect(await page.getByTestId('list-error').textContent()).toContain('already has 203.0.113.0/24');
    await listForm.getByTestId('list-cidr').fill('203.0.113.0/33');
    await listForm.getByTestId('list-submit').click();
    await expect.poll(() => page.getByTestId('list-error').textContent()).toContain('body.cidr');
    await listForm.getByTestId('list-cidr').fill('');

    // The failed registrations: counts for the range, and the log.
    const counts = page.getByTestId('failure-counts');
    await counts.waitFor();
    await page.getByTestId('failures-range').selectOption('1h');
    if (SIPP_AVAILABLE) {
      const reasons = page.getByTestId('failure-counts-reason');
      await expect
        .poll(
          async () => {
            await page.getByTestId('failures-refresh').click();
            return reasons.locator('[data-testid="count-row"][data-key="wrong-password"]').count();
          },
          { timeout: 10_000 },
        )
        .toBe(1);
      expect(await page.getByTestId('failure-counts-username').locator('[data-testid="count-row"][data-key="1002"]').count()).toBe(1);
      const failure = page.locator('[data-testid="failure-row"][data-reason="wrong-password"]').first();
      await failure.waitFor();
      const failureText = (await failure.textContent()) ?? '';
      expect(failureText).toContain('1002');
      expect(failureText).toContain('127.0.0.1:');
      expect(failureText).toContain('SIPp interop test');
      // A click on a count filters the log; another reason shows the filtered empty state.
      await reasons.locator('[data-testid="count-row"][data-key="wrong-password"]').getByRole('button').click();
      expect(await page.getByTestId('failures-reason').inputValue()).toBe('wrong-password');
      await page.getByTestId('failures-reason').selectOption('scanner');
      await page.getByTestId('failures-empty').waitFor();
      expect(await page.getByTestId('failures-empty').textContent()).toBe('No failed registrations match these filters.');
      await page.getByTestId('failures-clear').click();
      await failure.waitFor();
    } else {
      await page.getByTestId('failures-empty').waitFor();
      expect(await page.getByTestId('failures-empty').textContent()).toBe('No failed registrations in the last hour.');
      expect(await page.getByTestId('failure-counts-reason').getByTestId('count-empty').textContent()).toBe('None');
    }
    await page.screenshot({ path: join(shots, 'security.png') });

    // Unblock asks first; cancel keeps the block, confirm lifts it.
    await blocked.getByTestId('block-unblock').click();
    const unblock = page.getByTestId('unblock-dialog');
    await unblock.waitFor();
    expect(await unblock.textContent()).toContain('198.51.100.7');
    await unblock.getByTestId('confirm-cancel').click();
    await unblock.waitFor({ state: 'detached' });
    expect(await blocked.count()).toBe(1);
    await blocked.getByTestId('block-unblock').click();
    await unblock.getByTestId('confirm-ok').click();
    await unblock.waitFor({ state: 'detached' });
    await blocked.waitFor({ state: 'detached' });
    await page.getByTestId('blocks-empty').waitFor();
    expect(await page.getByTestId('notice').textContent()).toContain('Lifted the block of 198.51.100.7');

    await denied.getByTestId('list-remove').click();
    const remove = page.getByTestId('list-remove-dialog');
    await remove.getByTestId('confirm-ok').click();
    await remove.waitFor({ state: 'detached' });
    await denied.waitFor({ state: 'detached' });
    await page.getByTestId('lists-empty').waitFor();

    // Both changes are audited.
    await page.getByTestId('nav-audit').click();
    await page.getByTestId('audit-table').waitFor();
    await expect.poll(async () => (await page.getByTestId('audit-table').textContent()) ?? '').toMatch(/block\.remove[\s\S]*list\.remove|list\.remove[\s\S]*block\.remove/);
  });

  it('logging out returns to the login page, and a reload stays there', async () => {
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    await page.reload();
    await page.getByTestId('login-form').waitFor();
    expect(await page.getByTestId('topbar').count()).toBe(0);
  });

  it('locks logins after repeated failures and says how long to wait', async () => {
    const ctx = await browser.newContext({ viewport: VIEWPORT });
    try {
      const p = await ctx.newPage();
      p.setDefaultTimeout(15_000);
      watchErrors(p, 'intruder');
      await p.goto(url);
      await p.getByTestId('login-form').waitFor();
      for (let attempt = 0; attempt < 20; attempt++) {
        await p.getByTestId('login-username').fill('admin');
        await p.getByTestId('login-password').fill(`wrong-${attempt}`);
        const [res] = await Promise.all([p.waitForResponse((r) => r.url().endsWith('/api/login')), p.getByTestId('login-submit').click()]);
        if (res.status() === 429) break;
        expect(res.status()).toBe(401);
      }
      await p.getByTestId('login-locked').waitFor();
      const locked = await p.getByTestId('login-locked').textContent();
      expect(locked).toMatch(/Too many failed logins.*try again in \d+ (min|s)/);
      expect(await p.getByTestId('login-submit').isDisabled()).toBe(true);
    } finally {
      await ctx.close();
    }
  });

  it('raised no script errors in any page', () => {
    expect(pageErrors).toEqual([]);
  });
});
