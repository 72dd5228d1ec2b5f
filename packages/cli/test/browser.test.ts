import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTimeline, Simulation, timelineNodes } from '@pxsim/sim-harness';

const BIN = join(import.meta.dirname, '..', 'bin');
/** Screenshots and pages the browser tests leave for a reader (gitignored). */
const ARTIFACTS = join(import.meta.dirname, 'artifacts');
/** This test's own loopback range, apart from the e2e test's (127.1) and the node-agent process tests (127.0). */
const PREFIX = '127.3';
const CONTROL = `http://${PREFIX}.0.1:9020`;
/** Debian's chromium (Playwright's own browser download cannot be fetched on machines of this kind). */
const CHROMIUM = process.env['PXSIM_CHROMIUM'] ?? '/usr/bin/chromium';

function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set PXSIM_CHROMIUM; ` +
        '.ci/run installs it',
    );
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

describe('in a real browser (headless Chromium driven by playwright-core)', () => {
  let browser: Browser;
  let state: string;
  let sim: ChildProcess | undefined;
  let simOutput = '';
  let simExit: Promise<number | null> = Promise.resolve(null);

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launch();
    state = mkdtempSync(join(tmpdir(), 'pxsim-browser-'));
  }, 60_000);

  afterAll(async () => {
    await browser.close();
    if (sim !== undefined && sim.exitCode === null) sim.kill('SIGKILL');
    await simExit;
    rmSync(state, { recursive: true, force: true });
  });

  it('the timeline of a run opens from disk: a lane per node, the partition as a band, the states it caused', async () => {
    const run = new Simulation({ seed: 11 });
    run.start(run.group('all'));
    await run.run(8000);
    run.partition(run.group('us-east-1a'), run.group('us-east-1b'), 'partition us-east-1a | us-east-1b');
    await run.run(8000);
    run.heal();
    await run.run(8000);
    await run.dispose();
    const file = join(ARTIFACTS, 'timeline.html');
    writeFileSync(
      file,
      renderTimeline({
        title: 'browser test run',
        nodes: timelineNodes(run.specs),
        history: run.history,
        endMs: run.nowMs,
      }),
    );
    const page = await browser.newPage();
    await page.goto(`file://${file}`);
    expect(await page.locator('g.lane').count()).toBe(6);
    expect(await page.locator('g.fault text').first().textContent()).toBe('partition us-east-1a | us-east-1b');
    expect(await page.locator('rect.state[data-state="Out of Quorum"]').count()).toBeGreaterThan(0);
    expect(await page.locator('rect.state[data-state="Online"]').count()).toBeGreaterThan(6);
    await page.screenshot({ path: join(ARTIFACTS, 'timeline.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('the live dashboard: six nodes Online, a partition from its button turns nodes Out of Quorum, heal brings them back', async () => {
    sim = spawn(join(BIN, 'pxsim'), ['up', '--ip-prefix', PREFIX], {
      env: { ...process.env, PXSIM_STATE_DIR: state },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child = sim;
    child.stdout?.on('data', (chunk: Buffer) => (simOutput += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (simOutput += chunk.toString()));
    simExit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 90_000;
    while (!simOutput.includes('all 6 nodes Online') && Date.now() < deadline && child.exitCode === null)
      await new Promise((resolve) => setTimeout(resolve, 200));
    expect(simOutput, simOutput).toContain('all 6 nodes Online');
    const token = readFileSync(join(state, 'admin-token'), 'utf8').trim();
    expect(simOutput).toContain(`dashboard    ${CONTROL}/#token=${token}`);

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${CONTROL}/#token=${token}`);
    const online = '#nodes tbody tr[data-status="Online"]';
    // Bounded waits on the page's own rows (six rows: the sixth Online one appearing means all six are).
    await page.locator(online).nth(5).waitFor({ timeout: 30_000 });
    expect(await page.locator('#conn').textContent()).toBe('live');
    // A volume created through a node's REST API shows up with its replication status and replicas.
    const created = await fetch(`http://${PREFIX}.1.1:9001/v1/volumes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'dash-vol', size: 1, repl: 2 }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    await page.locator('#volumes li', { hasText: 'dash-vol: Detached' }).waitFor({ timeout: 30_000 });
    await page.locator('button[data-action="partition"]').first().click();
    // Safe mode: both sides of a domain split lose quorum (no witness) within the detection bound.
    await page.locator('#nodes tbody tr[data-status="Out of Quorum"]').nth(2).waitFor({ timeout: 30_000 });
    expect(await page.locator('#faults li').first().textContent()).toContain('partition');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-partition.png'), fullPage: true });
    await page.locator('button[data-action="heal"]').click();
    await page.locator(online).nth(5).waitFor({ timeout: 60_000 });
    await page.close();
  }, 240_000);

  it('the dashboard refuses a wrong token and asks for one', async () => {
    const page = await browser.newPage();
    await page.goto(`${CONTROL}/#token=wrong`);
    await page.locator('#conn', { hasText: /^refused/ }).waitFor({ timeout: 15_000 });
    expect(await page.locator('#auth').isVisible()).toBe(true);
    await page.close();
  }, 60_000);

  it('pxsim scenario failover --html: the live walkthrough as a timeline page, opened in the browser', async () => {
    const file = join(ARTIFACTS, 'failover.html');
    const result = spawnSync(join(BIN, 'pxsim'), ['scenario', 'failover', '--timeout', '90', '--html', file], {
      env: { ...process.env, PXSIM_STATE_DIR: state },
      encoding: 'utf8',
      timeout: 400_000,
    });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`timeline: ${file}`);
    const page = await browser.newPage();
    await page.goto(`file://${file}`);
    expect(await page.locator('g.lane').count()).toBe(6);
    // deactivate, then activate: two operator markers; the killed domain's lanes pass through down.
    expect(await page.locator('g.operator').count()).toBe(2);
    expect(await page.locator('rect.state[data-state="down"]').count()).toBe(3);
    await page.screenshot({ path: join(ARTIFACTS, 'failover.png'), fullPage: true });
    await page.close();
  }, 420_000);
});
