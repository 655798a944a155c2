// Drives the events demo page (web/events-demo, served by the dev nginx at
// /demo/) in Debian's chromium through playwright-core, for
// tests/integration/test_events_browser.py:
//
//   node events-demo.mjs BASE_URL EMAIL PASSWORD SCREENSHOT.png [--recovery]
//
// logs in, waits for the stream to open, presses Generate, waits for the
// completion status, and prints one JSON object with what the page shows.
// With --recovery it then goes through the page's two recoveries, each
// prepared by the caller: it prints {"step": NAME, ...} and waits for a line
// on stdin before going on ("gap": the caller skips seq numbers, the page must
// notice on the next generation; "close": the caller deletes the campaign's
// channel, the page's resume is refused and it must reopen). The last line
// is the result, as without --recovery, plus what each step showed.
// Never downloads a browser: it launches CHROMIUM (default /usr/bin/chromium).
import readline from 'node:readline';
import { chromium } from 'playwright-core';

const [baseUrl, email, password, screenshot, mode] = process.argv.slice(2);
if (!baseUrl || !email || !password || !screenshot) {
  console.error('usage: node events-demo.mjs BASE_URL EMAIL PASSWORD SCREENSHOT.png');
  process.exit(2);
}
const timeout = Number(process.env.EVENTS_DEMO_TIMEOUT_MS || 60000);
let stdin = null;

// Tells the caller to do its part of a step and waits until it has.
async function step(name, extra) {
  stdin ??= readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  console.log(JSON.stringify({ step: name, ...extra }));
  const { value, done } = await stdin.next();
  if (done || value.trim() !== 'ok') throw new Error(`step ${name}: the caller answered ${done ? 'EOF' : value}`);
}

// What the page shows.
function snapshot(page) {
  return page.evaluate(() => {
    const status = document.getElementById('status');
    const err = document.getElementById('error');
    const resync = document.getElementById('resync');
    const items = [...document.querySelectorAll('#items > li')];
    const events = [...document.querySelectorAll('#event-log > li')];
    return {
      progress: document.getElementById('progress').value,
      progressText: document.getElementById('progress-text').textContent,
      status: status.textContent,
      phase: status.dataset.phase,
      requestedJobId: status.dataset.requestedJobId || null,
      completedJobId: status.dataset.jobId || null,
      streamState: document.getElementById('stream-state').textContent,
      campaignId: document.getElementById('campaign-id').textContent,
      error: err.hidden ? null : err.textContent,
      resynced: resync.hidden ? null : resync.textContent,
      resyncCount: Number(resync.dataset.count || 0),
      items: items.map((li) => ({
        id: li.dataset.id || null,
        platform: li.dataset.platform || null,
        contentType: li.dataset.contentType || null,
        headline: li.querySelector('.headline')?.textContent ?? null,
        text: li.textContent,
      })),
      events: events.map((li) => ({ channel: li.dataset.channel, seq: Number(li.dataset.seq), type: li.dataset.type })),
    };
  });
}

// Presses Generate and waits until the job it started has ended.
async function generate(page) {
  await page.waitForSelector('#generate:not([disabled])');
  await page.click('#generate');
  await page.waitForFunction(() => {
    const status = document.getElementById('status');
    const ended = ['completed', 'failed', 'cancelled'].includes(status.dataset.phase);
    return (ended && status.dataset.jobId && status.dataset.jobId === status.dataset.requestedJobId)
      || !document.getElementById('error').hidden;
  });
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const console_ = [];
let result;
let page;
try {
  page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
  page.setDefaultTimeout(timeout);
  page.on('console', (m) => console_.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console_.push(`pageerror: ${e.message}`));

  const response = await page.goto(`${baseUrl}/demo/`);
  if (!response || response.status() !== 200) throw new Error(`GET /demo/ answered ${response && response.status()}`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('#login-button');
  await page.waitForFunction(() => {
    const err = document.getElementById('error');
    return !err.hidden || document.getElementById('stream-state').textContent === 'open';
  });
  const loginError = await page.$eval('#error', (e) => (e.hidden ? null : e.textContent));
  if (loginError) throw new Error(`the page reports: ${loginError}`);
  await generate(page);
  // The items and progress arrive before the completion (one channel, in seq order).
  await page.screenshot({ path: screenshot, fullPage: true });
  result = await snapshot(page);
  if (mode === '--recovery') {
    const last = (channel) => Math.max(...result.events.filter((e) => e.channel === channel).map((e) => e.seq));
    await step('gap', { campaignId: result.campaignId, lastSeq: last('campaign') });
    await generate(page);
    await page.waitForFunction(() => Number(document.getElementById('resync').dataset.count || 0) >= 1);
    result.gap = await snapshot(page);
    await step('close', { campaignId: result.campaignId });
    await page.waitForFunction(() => Number(document.getElementById('resync').dataset.count || 0) >= 2
      && document.getElementById('stream-state').textContent === 'open');
    result.closed = await snapshot(page);
    await generate(page);
    result.after = await snapshot(page);
    await page.screenshot({ path: screenshot, fullPage: true });
  }
  result.screenshot = screenshot;
  result.console = console_;
} catch (e) {
  if (page) await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
  console.log(JSON.stringify({ failure: String(e && e.stack ? e.stack : e), console: console_ }));
  await browser.close();
  process.exit(1);
}
await browser.close();
console.log(JSON.stringify(result));
process.exit(0);
