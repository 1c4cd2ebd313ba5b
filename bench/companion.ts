// The server companion under load: back-channel logout fanned out to 1,000 event streams on
// two instances sharing one real Redis, logout tokens validated per second, and memory per
// connected stream. Everything (redis-server, the local provider, the companion instances)
// listens on 127.0.0.1 on ports picked here and is stopped at the end, also on failure.
// Run: npx tsx --expose-gc bench/companion.ts
import { randomBytes } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { importJWK, SignJWT } from 'jose';
import { CLIENTS, startIdp, type Idp } from '../demo/idp/index.js';
import { BACKCHANNEL_LOGOUT_EVENT, createCompanion, redisStore, type Companion, type CompanionStore } from '../src/server/index.js';
import { validateLogoutToken } from '../src/server/logout-token.js';
import { profiles } from '../src/profiles.js';
import { providerOf } from '../src/server/provider.js';
import { freePort, startRedis, stopRedis } from '../test/redis-server.js';
import { bytes, ms, quantile, type BenchPart, type BenchRow } from './types.js';

const STREAMS = 1_000;
const RUNS = 5;
const VALIDATION_MIN_MS = 2_000;
/** A logout not delivered by then fails the run instead of leaving it waiting for ever. */
const LOGOUT_DEADLINE_MS = 30_000;
/** How long the bench's sessions are kept in Redis: the run is far shorter. */
const SESSION_TTL_MS = 600_000;
/** The generic client is public and the provider signs its tokens with RS256 (its default). */
const CLIENT_ID = CLIENTS.generic;
const ALG = 'RS256';


interface Instance { readonly base: string; readonly server: Server; readonly companion: Companion; readonly store: CompanionStore }

async function startInstance(issuer: string, redisUrl: string): Promise<Instance> {
  const store = redisStore({ url: redisUrl });
  const companion = createCompanion({ issuer, clientId: CLIENT_ID, redirectUris: ['http://127.0.0.1/callback'], store });
  const server = createServer((req, res) => companion.handler(req, res));
  // The client keeps sockets between runs; a server closing them as idle (5 s by default)
  // while the agent reuses one would fail a stream for a reason that is not the companion's.
  server.keepAliveTimeout = 600_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, companion, store };
}

async function stopInstance(instance: Instance): Promise<void> {
  await instance.companion.close();
  await instance.store.close();
  instance.server.closeAllConnections();
  await new Promise<void>((resolve) => instance.server.close(() => resolve()));
}

/** An event stream as a browser's EventSource would hold it, over plain node:http. */
interface EventStream {
  /** Resolves with performance.now() at the arrival of the first `name` event; rejects if the stream fails or ends first. */
  at(name: string): Promise<number>;
  /** Resolves once the stream is over, however it ended. */
  readonly finished: Promise<void>;
  /** Ends the stream here; a wait still pending rejects with `reason`. */
  close(reason?: string): void;
}

function openStream(base: string, handle: string, agent: Agent): EventStream {
  const seen = new Map<string, number>();
  let failure: Error | null = null;
  const waiters = new Set<() => void>();
  const settle = () => {
    for (const check of [...waiters]) check();
  };
  const fail = (error: Error) => {
    failure ??= error;
    settle();
  };
  let text = '';
  const req = request(`${base}/events`, { agent, headers: { cookie: `osg_session=${handle}`, accept: 'text/event-stream' } }, (res: IncomingMessage) => {
    if (res.statusCode !== 200) {
      fail(new Error(`GET /events answered HTTP ${res.statusCode}`));
      res.resume();
      return;
    }
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      // Stamped before parsing: the time the bytes reached this client.
      const arrived = performance.now();
      text += chunk;
      let cut: number;
      while ((cut = text.indexOf('\n\n')) >= 0) {
        const name = /^event: (\w+)$/m.exec(text.slice(0, cut))?.[1];
        text = text.slice(cut + 2);
        if (name && !seen.has(name)) seen.set(name, arrived);
        if (name === 'unavailable') fail(new Error('the companion said its store is unavailable'));
      }
      settle();
    });
    res.on('end', () => fail(new Error('the stream ended')));
    res.on('error', fail);
  });
  req.on('error', fail);
  // A request closes once its response is over, or when it failed, or was destroyed here.
  const finished = new Promise<void>((resolve) => req.on('close', () => resolve()));
  req.end();
  return {
    at: (name) => new Promise<number>((resolve, reject) => {
      const check = () => {
        const when = seen.get(name);
        if (when === undefined && !failure) return;
        waiters.delete(check);
        if (when !== undefined) resolve(when);
        else reject(failure!);
      };
      waiters.add(check);
      check();
    }),
    finished,
    close(reason = 'closed here') {
      fail(new Error(reason));
      req.destroy();
    },
  };
}

/** A logout token as the provider would send it, for every session of `sub` (no `sid`). */
async function signLogoutToken(idp: Idp, key: CryptoKey, sub: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: idp.issuer, aud: CLIENT_ID, iat: now, exp: now + 120, jti: randomBytes(12).toString('base64url'), sub, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
    .setProtectedHeader({ alg: ALG, kid: idp.idTokenSigningKey.kid!, typ: 'logout+jwt' })
    .sign(key);
}

/** POSTs a logout token; resolves with the HTTP status once the answer has been read. */
const postLogout = (base: string, token: string) => new Promise<number>((resolve, reject) => {
  const body = new URLSearchParams({ logout_token: token }).toString();
  const req = request(`${base}/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode ?? 0));
  });
  req.on('error', reject);
  req.end(body);
});

/** `count` sessions of one user, each with its own `sid`, put where the companion keeps them; their handles. */
async function putSessions(store: CompanionStore, sub: string, count: number): Promise<string[]> {
  const since = Date.now();
  const handles = Array.from({ length: count }, () => randomBytes(32).toString('base64url'));
  await Promise.all(handles.map((handle, i) => store.putSession(handle, { sub, sid: `${sub}-sid-${i}`, since }, SESSION_TTL_MS)));
  return handles;
}

/** Closes the streams still open and resolves once every one is over. */
async function closeAll(streams: readonly EventStream[]): Promise<void> {
  for (const s of streams) s.close();
  await Promise.all(streams.map((s) => s.finished));
}

/** Opens a stream for each handle on the instance `pick(i)` chooses, and resolves once all said `ready`. */
async function openAll(handles: readonly string[], pick: (i: number) => string, agent: Agent): Promise<EventStream[]> {
  const streams = handles.map((handle, i) => openStream(pick(i), handle, agent));
  try {
    await Promise.all(streams.map((s) => s.at('ready')));
  } catch (error) {
    await closeAll(streams);
    throw error;
  }
  return streams;
}

const sortNumbers = (values: readonly number[]) => [...values].sort((a, b) => a - b);
/** p0, p5 … p100 of sorted samples. */
const percentiles = (sorted: readonly number[]) => Array.from({ length: 21 }, (_, i) => quantile(sorted, i / 20));

interface FanOutRun { readonly p50: number; readonly p95: number; readonly max: number; readonly min: number; readonly postAnsweredMs: number; readonly openMs: number }

/** One logout fanned out: fresh sessions and streams spread over the instances, one token POSTed to the first. */
async function fanOutOnce(idp: Idp, key: CryptoKey, instances: readonly Instance[], agent: Agent): Promise<{ run: FanOutRun; samples: number[] }> {
  // A user of its own per run: no mark from an earlier run touches these sessions.
  const sub = `bench-${randomBytes(6).toString('hex')}`;
  const handles = await putSessions(instances[0]!.store, sub, STREAMS);
  const opening = performance.now();
  const streams = await openAll(handles, (i) => instances[i % instances.length]!.base, agent);
  const openMs = performance.now() - opening;
  const token = await signLogoutToken(idp, key, sub);
  try {
    const start = performance.now();
    const answered = postLogout(instances[0]!.base, token).then((status) => {
      if (status !== 200) throw new Error(`POST /backchannel-logout answered HTTP ${status}`);
      return performance.now() - start;
    });
    const deadline = setTimeout(() => {
      for (const s of streams) s.close(`no logout event within ${LOGOUT_DEADLINE_MS} ms`);
    }, LOGOUT_DEADLINE_MS);
    // Together: a refused POST fails the run at once rather than after the deadline.
    const [arrivals, postAnsweredMs] = await Promise.all([Promise.all(streams.map((s) => s.at('logout'))), answered]).finally(() => clearTimeout(deadline));
    const samples = arrivals.map((at) => at - start);
    const sorted = sortNumbers(samples);
    return { samples, run: { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), max: sorted.at(-1)!, min: sorted[0]!, postAnsweredMs, openMs } };
  } finally {
    // The companion ends each stream after its logout; any left (a failure) are closed here.
    await closeAll(streams);
  }
}

async function measureFanOut(idp: Idp, key: CryptoKey, instances: readonly Instance[]) {
  const agent = new Agent({ keepAlive: true, maxSockets: STREAMS });
  try {
    // Not counted: the first logout fetches the provider's metadata and keys, and runs cold code.
    const warmup = (await fanOutOnce(idp, key, instances, agent)).run;
    const runs: FanOutRun[] = [];
    const all: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      const { run: figures, samples } = await fanOutOnce(idp, key, instances, agent);
      runs.push(figures);
      all.push(...samples);
    }
    const sorted = sortNumbers(all);
    return { streams: STREAMS, instances: instances.length, runs: RUNS, warmup, perRun: runs, samples: sorted.length, percentilesMs: percentiles(sorted) };
  } finally {
    agent.destroy();
  }
}

/** Validates pre-signed distinct tokens one after another, as one instance's receiver would. */
async function measureValidation(idp: Idp, key: CryptoKey) {
  // The companion's own key lookup (metadata, JWKS, cached), warmed by the first call.
  const provider = providerOf(idp.issuer);
  const options = { issuer: idp.issuer, audience: CLIENT_ID, keys: provider.keys, algorithms: profiles.generic.idTokenAlgorithms };
  const signMany = async (count: number) => {
    const tokens: string[] = [];
    // In batches: WebCrypto signs on libuv's thread pool, so several at once go faster.
    for (let i = 0; i < count; i += 64) tokens.push(...await Promise.all(Array.from({ length: Math.min(64, count - i) }, (_, j) => signLogoutToken(idp, key, `user-${i + j}`))));
    return tokens;
  };
  const timed = async (tokens: readonly string[]) => {
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (const token of tokens) await validateLogoutToken(token, { ...options, now: Date.now() });
    const used = process.cpuUsage(cpu);
    return { ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
  };
  // A short round to warm the keys and size the timed one (signing is slower than verifying).
  const probe = await signMany(200);
  const probeMs = (await timed(probe)).ms;
  let count = Math.ceil((probe.length / probeMs) * VALIDATION_MIN_MS * 1.25);
  for (;;) {
    const tokens = await signMany(count);
    const { ms: elapsed, cpuMs } = await timed(tokens);
    // Per CPU second too (this process's threads, WebCrypto's pool included): on a shared
    // machine the wall-clock rate drops with others' load, the CPU-time rate much less.
    if (elapsed >= VALIDATION_MIN_MS) return { tokens: count, ms: elapsed, cpuMs, perSecond: count / (elapsed / 1000), perCpuSecond: count / (cpuMs / 1000), alg: ALG, modulusBits: 2048 };
    count = Math.ceil(count * (VALIDATION_MIN_MS / elapsed) * 1.1);
  }
}

/** Heap and RSS before and after opening STREAMS streams on one instance, this process holding both ends. */
async function measureMemory(instance: Instance) {
  const gc = globalThis.gc;
  const settle = () => {
    // Twice: the first pass can leave garbage that finalizers release.
    gc?.();
    gc?.();
    return process.memoryUsage();
  };
  const sub = `bench-mem-${randomBytes(6).toString('hex')}`;
  const agent = new Agent({ keepAlive: true, maxSockets: STREAMS });
  try {
    // A few streams first, not counted: code compiled on first use, the Redis subscriber
    // connection and the agent's own state are not per stream.
    await closeAll(await openAll(await putSessions(instance.store, sub, 50), () => instance.base, agent));
    const handles = await putSessions(instance.store, sub, STREAMS);
    const before = settle();
    const streams = await openAll(handles, () => instance.base, agent);
    const after = settle();
    await closeAll(streams);
    return {
      streams: STREAMS, gc: gc !== undefined, before, after,
      heapPerStream: (after.heapUsed - before.heapUsed) / STREAMS,
      externalPerStream: (after.external - before.external) / STREAMS,
      rssPerStream: (after.rss - before.rss) / STREAMS,
    };
  } finally {
    agent.destroy();
  }
}

export async function benchCompanion(): Promise<BenchPart> {
  const cleanup: Array<() => Promise<void>> = [];
  try {
    const redisPort = await freePort();
    const redis = await startRedis(redisPort);
    cleanup.push(() => stopRedis(redis));
    const idp = await startIdp({ appOrigins: ['http://127.0.0.1'] });
    cleanup.push(() => idp.close());
    const instances: Instance[] = [];
    for (let i = 0; i < 2; i += 1) {
      const instance = await startInstance(idp.issuer, `redis://127.0.0.1:${redisPort}`);
      instances.push(instance);
      cleanup.push(() => stopInstance(instance));
    }
    const key = await importJWK(idp.idTokenSigningKey, ALG) as CryptoKey;

    const loadBefore = os.loadavg();
    // Memory first, while the heap holds little else; the fan-out's garbage would blur it.
    const memory = await measureMemory(instances[0]!);
    const fanOut = await measureFanOut(idp, key, instances);
    const validation = await measureValidation(idp, key);

    const at = (q: number) => fanOut.percentilesMs[Math.round(q * 20)]!;
    const rows: BenchRow[] = [
      {
        section: 'companion: logout fan-out',
        name: 'logout fan-out, 1,000 streams on 2 instances + Redis',
        values: { p50: ms(at(0.5)), p95: ms(at(0.95)), max: ms(at(1)), 'max per run': fanOut.perRun.map((r) => r.max.toFixed(1)).join(' / ') + ' ms' },
        note: `${RUNS} runs after a warm-up, ${STREAMS.toLocaleString('en-US')} streams each (half per instance); one sub-only logout token POSTed to one instance; sessions put through the store's putSession; until each stream's logout event; both instances and all clients share this process's one event loop`,
      },
      {
        section: 'companion: logout tokens',
        name: 'logout tokens validated per second (one core)',
        values: { 'tokens/s': Math.round(validation.perSecond).toLocaleString('en-US'), 'per CPU second': Math.round(validation.perCpuSecond).toLocaleString('en-US') },
        note: `validateLogoutToken in sequence on ${validation.tokens.toLocaleString('en-US')} distinct ${ALG} (2048-bit) tokens over ${(validation.ms / 1000).toFixed(1)} s, keys cached`,
      },
      {
        section: 'companion: memory',
        name: 'memory per connected stream',
        // RSS moves in pages and with the allocator's own timing (negative in some runs): kept in raw only.
        values: { heap: bytes(memory.heapPerStream) },
        note: `${STREAMS.toLocaleString('en-US')} streams on one instance (Redis store); both ends in this process (server and client sockets, requests, responses, the companion's listener and heartbeat; not the kernel's socket buffers)${memory.gc ? ', after gc' : '; gc unavailable (run with --expose-gc): figures include garbage'}`,
      },
    ];
    const cpus = os.cpus();
    return {
      rows,
      raw: {
        // The load averages say whether others shared the machine while this ran.
        machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, node: process.version, platform: `${os.platform()} ${os.release()}`, redis: process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server', loadBefore, loadAfter: os.loadavg() },
        fanOut,
        validation,
        memory,
      },
    };
  } finally {
    for (const step of cleanup.reverse()) {
      await step().catch((error: unknown) => console.error('[bench/companion] cleanup:', (error as Error).message));
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { rows, raw } = await benchCompanion();
  for (const row of rows) {
    const values = Object.entries(row.values).map(([k, v]) => `${k} ${v}`).join('  ');
    console.log(`${row.name}: ${values}${row.note ? `\n    ${row.note}` : ''}`);
  }
  console.log(`\nraw: ${JSON.stringify(raw, null, 2)}`);
}
