// The benchmark's browser parts, in Chromium through Playwright, beside the local identity
// provider: cross-tab latency (ours and react-idle-timer's), expiry lateness, start-up (ours
// and oidc-client-ts's), the cost of activity (ours and react-idle-timer's) and leaks.
// Latencies are stamped inside the pages (performance.timeOrigin + performance.now(): one
// clock for the machine), never by round trips to this script.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { build } from 'esbuild';
import { buildDemo } from '../demo/build.js';
import { TEST_USER } from '../demo/idp/index.js';
import { startDemo, type Demo } from '../demo/server.js';
import { bytes, ms, quantile, type BenchPart, type BenchRow } from './types.js';

const REPS = 10;
const TAB_COUNTS = [2, 5, 10, 20];
const SETTINGS_KEY = 'oidc-session-guard-demo';
/** The warning a second after activity: "Stay signed in" can be measured again and again. */
const QUICK_WARNING = { idleTimeoutMs: 21_000, warningBeforeMs: 20_000, absoluteTimeoutMs: 12 * 3_600_000 };
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const WORK = here('./.work/pages');

type DemoWindow = {
  demoSession: {
    signOut(): Promise<void>;
    subscribe(fn: (s: { status: string }) => void): () => void;
    on(type: string, fn: (payload: unknown) => void): () => void;
    getSnapshot(): { status: string; expiresAt: number | null };
  };
};

// ---- set-up ----

export async function launch(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
  return chromium.launch({
    ...(executablePath ? { executablePath } : {}),
    args: ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
  });
}

/** The peers' pages (bench/pages), bundled with esbuild, and the IIFE, on a loopback port. */
export async function startPeerServer(): Promise<{ url: string; server: Server }> {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  await build({
    entryPoints: [here('./pages/idle-timer.ts'), here('./pages/oidc-client-ts.ts')],
    bundle: true, minify: true, format: 'esm', platform: 'browser', outdir: WORK, logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const iife = here('../dist/oidc-session-guard.iife.js');
  if (!existsSync(iife)) throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');
  const server = createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (type: string, body: string | Buffer) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const page = /^\/([a-z-]+)\.html$/.exec(pathname)?.[1];
    if (page) return send('text/html', `<!doctype html><html lang="en"><title>${page}</title><body><div id="root"></div><script type="module" src="/${page}.js"></script></body></html>`);
    if (pathname === '/blank.js') return send('text/javascript', 'document.body.dataset.ready = "true";');
    const file = pathname === '/oidc-session-guard.iife.js' ? iife : /^\/[a-z-]+\.js$/.test(pathname) ? `${WORK}${pathname}` : null;
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    readFile(file).then((body) => send('text/javascript', body), () => res.writeHead(404).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function signIn(page: Page, demo: Demo): Promise<void> {
  await page.goto(demo.appUrl);
  await page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
  await page.getByTestId('sign-in').click();
  await page.waitForURL((url) => url.href.startsWith(demo.idp.issuer));
  await page.getByLabel('Username').fill(TEST_USER.username);
  await page.getByLabel('Password').fill(TEST_USER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('status').filter({ hasText: 'active' }).waitFor({ state: 'attached' });
}

/** A context whose demo app uses `policy` (the demo's settings, in localStorage before it loads). */
async function contextWith(browser: Browser, demo: Demo, settings: object): Promise<BrowserContext> {
  const context = await browser.newContext();
  const origin = new URL(demo.appUrl).origin;
  await context.addInitScript(([key, value, appOrigin]) => {
    if (location.origin === appOrigin) localStorage.setItem(key!, value!);
  }, [SETTINGS_KEY, JSON.stringify(settings), origin]);
  return context;
}

async function tabsSignedIn(context: BrowserContext, demo: Demo, count: number): Promise<Page[]> {
  const tabs = [await context.newPage()];
  await signIn(tabs[0]!, demo);
  for (let i = 1; i < count; i += 1) {
    const tab = await context.newPage();
    await tab.goto(demo.appUrl);
    await tab.getByTestId('status').filter({ hasText: /active|warning/ }).waitFor({ state: 'attached' });
    // Opening 20 tabs takes longer than a short idle limit: each new tab counts as activity.
    await tab.evaluate(() => (window as unknown as { demoSession: { staySignedIn(): Promise<void> } }).demoSession.staySignedIn().catch(() => undefined));
    tabs.push(tab);
  }
  return tabs;
}

const stats = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), max: sorted.at(-1)!, n: sorted.length };
};
const statValues = (s: ReturnType<typeof stats>) => ({ p50: ms(s.p50), p95: ms(s.p95), max: ms(s.max) });

// ---- cross-tab latency ----

/** Sign-out in one tab until signed out in every other, `REPS` times (one warm-up not counted). */
async function signOutLatency(browser: Browser, demo: Demo, count: number): Promise<number[]> {
  const context = await browser.newContext();
  const tabs = await tabsSignedIn(context, demo, count);
  const samples: number[] = [];
  for (let rep = -1; rep < REPS; rep += 1) {
    if (rep > -1) {
      await signIn(tabs[0]!, demo);
      for (const tab of tabs.slice(1)) await tab.getByTestId('status').filter({ hasText: 'active' }).waitFor({ state: 'attached' });
    }
    await Promise.all(tabs.slice(1).map((tab) => tab.evaluate(() => {
      const w = window as unknown as DemoWindow & { stamp: number | null };
      w.stamp = null;
      const off = w.demoSession.subscribe((snapshot) => {
        if (snapshot.status !== 'signed-out' || w.stamp !== null) return;
        w.stamp = performance.timeOrigin + performance.now();
        off();
      });
    })));
    const start = await tabs[0]!.evaluate(() => {
      const at = performance.timeOrigin + performance.now();
      void (window as unknown as DemoWindow).demoSession.signOut();
      return at;
    });
    const ends = await stamps(tabs.slice(1));
    if (rep >= 0) samples.push(Math.max(...ends) - start);
    await tabs[0]!.waitForURL((url) => url.href.startsWith(demo.appUrl) && !url.search);
    await tabs[0]!.getByTestId('status').filter({ hasText: 'signed-out' }).waitFor({ state: 'attached' });
  }
  await context.close();
  return samples;
}

/** Each page's `window.stamp`, once set. */
const stamps = (pages: Page[]) => Promise.all(pages.map(async (page) => {
  const handle = await page.waitForFunction(() => (window as unknown as { stamp: number | null }).stamp, undefined, { timeout: 10_000 });
  return (await handle.jsonValue()) as number;
}));

/** "Stay signed in" in the timeout dialog of one tab until the warning closes in every other. */
export async function staySignedInLatency(browser: Browser, demo: Demo, count: number): Promise<number[]> {
  const context = await contextWith(browser, demo, { policy: QUICK_WARNING, onExpired: 'none' });
  const tabs = await tabsSignedIn(context, demo, count);
  const samples: number[] = [];
  const dialogOpen = () => document.querySelector('session-timeout-dialog')?.shadowRoot?.querySelector('dialog')?.open === true;
  for (let rep = -1; rep < REPS; rep += 1) {
    // The warning comes a second after the last activity, in every tab.
    await Promise.all(tabs.map((tab) => tab.waitForFunction(dialogOpen, undefined, { timeout: 10_000 })));
    await Promise.all(tabs.slice(1).map((tab) => tab.evaluate(() => {
      const w = window as unknown as { stamp: number | null };
      w.stamp = null;
      // The warning is closed when the dialog loses its open attribute (at once, in the same
      // task as the state change). Its `close` event comes later, with the next rendering
      // update: about a second later in a tab that is not in front.
      const dialog = document.querySelector('session-timeout-dialog')!.shadowRoot!.querySelector('dialog')!;
      const observer = new MutationObserver(() => {
        if (dialog.open) return;
        w.stamp = performance.timeOrigin + performance.now();
        observer.disconnect();
      });
      observer.observe(dialog, { attributes: true, attributeFilter: ['open'] });
    })));
    const start = await tabs[0]!.evaluate(() => {
      const at = performance.timeOrigin + performance.now();
      document.querySelector('session-timeout-dialog')!.shadowRoot!.querySelector<HTMLButtonElement>('button.primary')!.click();
      return at;
    });
    const ends = await stamps(tabs.slice(1));
    if (rep >= 0) samples.push(Math.max(...ends) - start);
  }
  await context.close();
  return samples;
}

/** The peer: react-idle-timer (crossTab): activate() in one idle tab until onActive in every other. */
async function peerActivityLatency(browser: Browser, peerUrl: string, count: number): Promise<number[]> {
  const context = await browser.newContext();
  const tabs: Page[] = [];
  for (let i = 0; i < count; i += 1) {
    const tab = await context.newPage();
    await tab.goto(`${peerUrl}/idle-timer.html?timeout=1000`);
    await tab.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
    tabs.push(tab);
  }
  type PeerWindow = { peer: { activate(): boolean; isIdle(): boolean; activeAt: number | null } };
  const samples: number[] = [];
  for (let rep = -1; rep < REPS; rep += 1) {
    await Promise.all(tabs.map((tab) => tab.waitForFunction(() => (window as unknown as PeerWindow).peer.isIdle(), undefined, { timeout: 10_000 })));
    await Promise.all(tabs.slice(1).map((tab) => tab.evaluate(() => {
      (window as unknown as PeerWindow).peer.activeAt = null;
    })));
    const start = await tabs[0]!.evaluate(() => {
      const at = performance.timeOrigin + performance.now();
      (window as unknown as PeerWindow).peer.activate();
      return at;
    });
    const ends = await Promise.all(tabs.slice(1).map(async (tab) => {
      const handle = await tab.waitForFunction(() => (window as unknown as PeerWindow).peer.activeAt, undefined, { timeout: 10_000 });
      return (await handle.jsonValue()) as number;
    }));
    if (rep >= 0) samples.push(Math.max(...ends) - start);
  }
  await context.close();
  return samples;
}

// ---- expiry lateness ----

/** A foreground tab: ms from the deadline to the `expired` event (three sessions at once). */
async function foregroundLateness(browser: Browser, demo: Demo): Promise<number[]> {
  return Promise.all([0, 1, 2].map(async () => {
    const context = await contextWith(browser, demo, { policy: QUICK_WARNING, onExpired: 'none' });
    const [page] = await tabsSignedIn(context, demo, 1);
    const late = await page!.evaluate(() => new Promise<number>((resolve) => {
      const { demoSession } = window as unknown as DemoWindow;
      const deadline = demoSession.getSnapshot().expiresAt!;
      demoSession.on('expired', () => resolve(Date.now() - deadline));
    }));
    await context.close();
    return late;
  }));
}

/** A hidden tab whose clock jumps an hour (the machine slept): ms from visible to `expired`, and warnings seen. */
async function hiddenJump(browser: Browser, demo: Demo): Promise<{ ms: number; warnings: number }> {
  const context = await contextWith(browser, demo, { onExpired: 'none' });
  const page = await context.newPage();
  await page.clock.install();
  await signIn(page, demo);
  await page.evaluate(() => {
    const w = window as unknown as DemoWindow & { warnings: number };
    w.warnings = 0;
    w.demoSession.on('warning', () => {
      w.warnings += 1;
    });
    // Headless Chromium keeps pages visible: set it as the browser does when a tab is hidden.
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await page.clock.setSystemTime((await page.evaluate(() => Date.now())) + 3_600_000); // asleep: no timer fires
  const result = await page.evaluate(() => new Promise<{ ms: number; warnings: number }>((resolve) => {
    const w = window as unknown as DemoWindow & { warnings: number };
    const start = performance.now();
    w.demoSession.on('expired', () => resolve({ ms: performance.now() - start, warnings: w.warnings }));
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  }));
  await context.close();
  return result;
}

// ---- start-up ----

interface StartUp { ms: number; scriptBytes: number; requests: number }

/** A signed-in tab opened beside a live one: from the session created to its first known status; scripts fetched. */
async function ourStartUp(browser: Browser, demo: Demo): Promise<StartUp[]> {
  const context = await browser.newContext();
  await tabsSignedIn(context, demo, 1);
  const results: StartUp[] = [];
  for (let rep = -1; rep < REPS; rep += 1) {
    const tab = await context.newPage();
    await tab.goto(demo.appUrl);
    await tab.getByTestId('status').filter({ hasText: 'active' }).waitFor({ state: 'attached' });
    const measured = await tab.evaluate(() => {
      const scripts = performance.getEntriesByType('resource').filter((e) => (e as PerformanceResourceTiming).initiatorType === 'script' || e.name.endsWith('.js')) as PerformanceResourceTiming[];
      return {
        ms: performance.measure('osg:start-up', 'osg:created', 'osg:known').duration,
        scriptBytes: scripts.reduce((sum, e) => sum + e.encodedBodySize, 0),
        requests: scripts.length,
      };
    });
    if (rep >= 0) results.push(measured);
    await tab.close();
  }
  await context.close();
  return results;
}

/** The peer: oidc-client-ts's getUser() after a reload, its user in sessionStorage. */
async function peerStartUp(browser: Browser, peerUrl: string): Promise<StartUp[]> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const authority = 'https://idp.example';
  const clientId = 'spa';
  const now = Math.floor(Date.now() / 1000);
  const user = { id_token: 'x.y.z', access_token: 'access', token_type: 'Bearer', scope: 'openid', profile: { sub: 'alice', iss: authority, aud: clientId, exp: now + 3600, iat: now }, expires_at: now + 3600 };
  await page.goto(`${peerUrl}/blank.html`);
  await page.evaluate(([key, value]) => sessionStorage.setItem(key!, value!), [`oidc.user:${authority}:${clientId}`, JSON.stringify(user)]);
  const results: StartUp[] = [];
  for (let rep = -1; rep < REPS; rep += 1) {
    await page.goto(`${peerUrl}/oidc-client-ts.html?authority=${encodeURIComponent(authority)}&client_id=${clientId}`);
    await page.locator('body[data-ready="true"][data-user="yes"]').waitFor({ state: 'attached' });
    const measured = await page.evaluate(() => {
      const scripts = performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.js')) as PerformanceResourceTiming[];
      return {
        ms: performance.measure('peer:start-up', 'peer:created', 'peer:known').duration,
        scriptBytes: scripts.reduce((sum, e) => sum + e.encodedBodySize, 0),
        requests: scripts.length,
      };
    });
    if (rep >= 0) results.push(measured);
  }
  await context.close();
  return results;
}

// ---- the cost of activity ----

interface ActivityCost { usPerEvent: number; scriptUsPerEvent: number; events: number; seconds: number; idbWrites: number; channelPosts: number; storageWrites: number }


/** 10,000 pointer moves and 1,000 key presses, trusted (through the DevTools protocol): main-thread time per event. */
async function activityCost(page: Page): Promise<ActivityCost> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  // TaskDuration: all main-thread work (input, style, layout, script); ScriptDuration: script alone.
  const metrics = async () => {
    const list = (await cdp.send('Performance.getMetrics')).metrics;
    const value = (name: string) => list.find((m) => m.name === name)!.value;
    return { task: value('TaskDuration'), script: value('ScriptDuration') };
  };
  await page.evaluate(() => {
    const { counts } = window as unknown as { counts: Record<string, number> };
    for (const key of Object.keys(counts)) counts[key] = 0;
  });
  const started = Date.now();
  const before = await metrics();
  // Sent without waiting for each answer (the protocol keeps their order): the input
  // arrives as fast as the page takes it, not at the pace of round trips to this script.
  const input: Promise<unknown>[] = [];
  for (let i = 0; i < 10_000; i += 1) input.push(cdp.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: 100 + (i % 200), y: 100 + (i % 150) }));
  for (let i = 0; i < 1_000; i += 1) {
    for (const type of ['rawKeyDown', 'keyUp'] as const) input.push(cdp.send('Input.dispatchKeyEvent', { type, key: 'Shift', code: 'ShiftLeft', windowsVirtualKeyCode: 16 }));
  }
  await Promise.all(input);
  const after = await metrics();
  const seconds = (Date.now() - started) / 1000;
  const counts = await page.evaluate(() => (window as unknown as { counts: { idb: number; posts: number; storage: number } }).counts);
  await cdp.detach();
  return { usPerEvent: ((after.task - before.task) * 1e6) / 11_000, scriptUsPerEvent: ((after.script - before.script) * 1e6) / 11_000, events: 11_000, seconds, idbWrites: counts.idb, channelPosts: counts.posts, storageWrites: counts.storage };
}

export async function activityCosts(browser: Browser, demo: Demo, peerUrl: string): Promise<Record<'ours' | 'baseline' | 'peer', ActivityCost>> {
  const open = async (url: string | null) => {
    const context = await browser.newContext();
    await context.addInitScript({ path: here('./pages/counters.js') });
    const page = await context.newPage();
    if (url === null) await signIn(page, demo);
    else {
      await page.goto(url);
      await page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
    }
    return { page, context };
  };
  const results = {} as Record<'ours' | 'baseline' | 'peer', ActivityCost>;
  for (const [name, url] of [['baseline', `${demo.appUrl}?no-sdk`], ['ours', null], ['peer', `${peerUrl}/idle-timer.html`]] as const) {
    const { page, context } = await open(url);
    results[name] = await activityCost(page);
    await context.close();
  }
  return results;
}

// ---- leaks ----

interface Leaks { cycles: number; listeners: number; timers: number; channels: number; heapGrowthBytes: number }



/** 1,000 createSession / start / stop cycles on a signed-out page (the script-tag build). */
export async function leaks(browser: Browser, peerUrl: string): Promise<Leaks> {
  const context = await browser.newContext();
  await context.addInitScript({ path: here('./pages/trackers.js') });
  const page = await context.newPage();
  await page.goto(`${peerUrl}/blank.html`);
  await page.addScriptTag({ url: `${peerUrl}/oidc-session-guard.iife.js` });
  const cdp = await context.newCDPSession(page);
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    return (await cdp.send('Runtime.getHeapUsage')).usedSize;
  };
  type G = { OidcSessionGuard: { createSession(o: object): { start(): Promise<unknown>; stop(): void } } };
  const cycles = (n: number) => page.evaluate(async (count) => {
    const { createSession } = (window as unknown as G).OidcSessionGuard;
    for (let i = 0; i < count; i += 1) {
      const session = createSession({ authority: 'https://idp.example', clientId: 'spa', redirectUri: `${location.origin}/callback` });
      await session.start().catch(() => undefined);
      session.stop();
    }
  }, n);
  type T = { tracked(): { listeners: number; timers: number; channels: number } };
  await cycles(10); // warm: code compiled, IndexedDB opened
  const before = await page.evaluate(() => (window as unknown as T).tracked());
  const heapBefore = await heap();
  await cycles(1_000);
  // Let the last stop() settle (an IndexedDB close, a rejected start) before counting.
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
  const after = await page.evaluate(() => (window as unknown as T).tracked());
  const heapAfter = await heap();
  await context.close();
  return {
    cycles: 1_000,
    listeners: after.listeners - before.listeners,
    timers: after.timers - before.timers,
    channels: after.channels - before.channels,
    heapGrowthBytes: heapAfter - heapBefore,
  };
}

// ---- the part ----

export async function benchBrowser(log: (line: string) => void = () => undefined): Promise<BenchPart> {
  await buildDemo();
  const demo = await startDemo({ idp: { accessTokenTtlSec: 86_400 } });
  const peer = await startPeerServer();
  const browser = await launch();
  const rows: BenchRow[] = [];
  const raw: Record<string, unknown> = { chromium: browser.version() };
  try {
    const cross: Record<string, unknown> = {};
    for (const count of TAB_COUNTS) {
      const signOut = stats(await signOutLatency(browser, demo, count));
      const stay = stats(await staySignedInLatency(browser, demo, count));
      const peerSync = stats(await peerActivityLatency(browser, peer.url, count));
      cross[count] = { signOut, stay, peer: peerSync };
      // The goals: p95 within 50 ms at 20 tabs; at 2 tabs, no slower than the peer's p50.
      const goal = (p: ReturnType<typeof stats>) => count === 20 ? `; goal p95 ≤ 50 ms: ${p.p95 <= 50 ? 'met' : 'missed'}`
        : count === 2 ? `; goal p50 ≤ the peer's p50 (${ms(peerSync.p50)}): ${p.p50 <= peerSync.p50 ? 'met' : 'missed'}` : '';
      rows.push({ section: 'cross-tab', name: `sign-out, ${count} tabs`, values: statValues(signOut), note: `${REPS} reps, until the last tab is signed out${goal(signOut)}` });
      rows.push({ section: 'cross-tab', name: `"Stay signed in", ${count} tabs`, values: statValues(stay), note: `until the warning closes in the last tab${goal(stay)}` });
      rows.push({ section: 'cross-tab', name: `react-idle-timer activity, ${count} tabs`, values: statValues(peerSync), note: 'peer: activate() until onActive in the last tab' });
      log(`cross-tab ${count} tabs done`);
    }
    raw.crossTab = cross;

    const foreground = await foregroundLateness(browser, demo);
    const hidden = await hiddenJump(browser, demo);
    raw.expiry = { foregroundLateMs: foreground, hiddenAfterJump: hidden };
    rows.push({ section: 'expiry: a foreground tab', name: 'foreground deadline, ms late', values: { p50: ms(quantile([...foreground].sort((a, b) => a - b), 0.5)), max: ms(Math.max(...foreground)) }, note: `${foreground.length} sessions` });
    rows.push({ section: 'expiry: a hidden tab after the machine slept', name: 'hidden tab, clock +1 h, visible → expired', values: { time: ms(hidden.ms), warnings: String(hidden.warnings) }, note: hidden.warnings === 0 ? 'no warning fired' : 'a warning fired' });
    log('expiry done');

    const ours = await ourStartUp(browser, demo);
    const theirs = await peerStartUp(browser, peer.url);
    raw.startUp = { ours, peer: theirs };
    for (const [name, list, note] of [['oidc-session-guard: tab beside a live one', ours, 'record from IndexedDB, tokens from the live tab (verified); the demo app\'s scripts'], ['oidc-client-ts: getUser() after a reload', theirs, 'user from sessionStorage, not verified; its bundle']] as const) {
      const s = stats(list.map((r) => r.ms));
      rows.push({ section: 'start-up', name, values: { p50: ms(s.p50), max: ms(s.max), 'scripts fetched': `${bytes(list[0]!.scriptBytes)} in ${list[0]!.requests}` }, note });
    }
    log('start-up done');

    const activity = await activityCosts(browser, demo, peer.url);
    raw.activity = activity;
    for (const [name, r, note] of [['page without the SDK', activity.baseline, 'baseline'], ['oidc-session-guard (signed in)', activity.ours, 'throttle 5 s'], ['react-idle-timer (crossTab)', activity.peer, 'peer']] as const) {
      rows.push({ section: 'activity', name, values: { 'main thread µs/event': r.usPerEvent.toFixed(1), 'script µs/event': r.scriptUsPerEvent.toFixed(2), 'IndexedDB writes': String(r.idbWrites), 'channel posts': String(r.channelPosts), 'storage writes': String(r.storageWrites), seconds: r.seconds.toFixed(1) }, note: `${note}; 10,000 pointer moves + 1,000 key presses` });
    }
    log('activity done');

    const leaked = await leaks(browser, peer.url);
    raw.leaks = leaked;
    rows.push({ section: 'leaks', name: '1,000 createSession / start / stop', values: { listeners: String(leaked.listeners), timers: String(leaked.timers), channels: String(leaked.channels), heap: bytes(leaked.heapGrowthBytes) }, note: 'left after the cycles; heap after a forced GC' });
  } finally {
    await browser.close();
    peer.server.close();
    await demo.close();
  }
  return { rows, raw };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { rows } = await benchBrowser((line) => console.log(line));
  for (const row of rows) console.log(row.section, row.name, JSON.stringify(row.values), row.note ?? '');
}
