/**
 * @module bench/support/fleet-client
 * The HPA fleet's load generator (bench/fleet.ts), in a child process of its own. It used to run
 * in the bench process, which also holds the fleet's objects, the recording proxy and the other
 * scenarios' leftovers: that process' major GCs (~70 ms every few seconds at 10,000 HPAs, 42% of
 * its main thread in a `--cpu-prof` of the measured cycles) stopped its event loop while answers
 * were arriving, and every answer that arrived during one was timed late. A small heap of its own
 * keeps the timing to the HTTP/2 exchange, as the HPA controller's own process would see it.
 *
 * Open loop: bench/support/load.ts is closed-loop (a worker sends its next request when the
 * previous answer is back) and reports percentiles per run; a fleet needs requests sent on a
 * schedule regardless of answers, and every request's latency across the whole run.
 */
import { fork, type ChildProcess } from "node:child_process";
import { connect as http2Connect, type ClientHttp2Session } from "node:http2";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { AggregatorCredentials } from "./adapters.ts";
import { h2Exchange, type TimedAnswer } from "./load.ts";

/** One HPA's request. */
export interface FleetRequest {
  readonly path: string;
  /** Items a correct answer holds. */
  readonly items: number;
  /** Second of the period in which it is due. */
  readonly phase: number;
}

export interface Schedule {
  /** Seconds between an HPA's requests (the HPA controller's sync period). */
  readonly periodS: number;
  readonly warmUp: number;
  readonly cycles: number;
}

export interface BurstResult {
  /** The measured requests; only the first failure and the first 429 keep their message. */
  readonly samples: Sample[];
  /** The most requests still unanswered when a measured burst went out. */
  readonly maxOutstanding: number;
  /** HTTP/2 connections opened. */
  readonly connections: number;
  /** Per measured burst: ms from its start until its requests were all handed to HTTP/2. */
  readonly handOffMs: number[];
}

export interface Sample {
  /** From the burst's hand-off to HTTP/2. */
  readonly ms: number;
  /** The burst's hand-off time (from its start): `ms` plus this is the time from its start. */
  readonly lead: number;
  readonly ok: boolean;
  /** Turned away with 429 (the server's in-flight limit): fast, and no answer. */
  readonly rejected?: boolean;
  readonly error?: string;
}

function h2Session(url: string, creds: AggregatorCredentials): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = http2Connect(url, {
      cert: creds.tls.cert,
      key: creds.tls.key,
      rejectUnauthorized: false,
      settings: { initialWindowSize: 4 * 1024 * 1024 },
    });
    s.once("error", reject);
    s.once("connect", () => {
      s.off("error", reject);
      s.on("error", () => undefined);
      resolve(s);
    });
  });
}

/**
 * HTTP/2 connections as Go's transport (the aggregator's) opens them: streams go to an open
 * connection below the server's SETTINGS_MAX_CONCURRENT_STREAMS, and a new connection is opened
 * when every one is at it (ours advertises 100, `--http2-max-streams-per-connection`). The
 * 10,000-HPA fleet's bursts of ~667 requests need several.
 */
class Sessions {
  readonly #url: string;
  readonly #creds: AggregatorCredentials;
  readonly #open: { readonly s: ClientHttp2Session; active: number }[] = [];
  #opening: Promise<void> | undefined;

  constructor(url: string, creds: AggregatorCredentials) {
    this.#url = url;
    this.#creds = creds;
  }

  get count(): number {
    return this.#open.length;
  }

  async acquire(): Promise<{ readonly s: ClientHttp2Session; active: number }> {
    for (;;) {
      const free = this.#open.find(
        (x) =>
          !x.s.destroyed &&
          !x.s.closed &&
          x.active < (x.s.remoteSettings.maxConcurrentStreams ?? 100),
      );
      if (free) {
        free.active++;
        return free;
      }
      this.#opening ??= h2Session(this.#url, this.#creds)
        .then((s) => {
          this.#open.push({ s, active: 0 });
        })
        .finally(() => {
          this.#opening = undefined;
        });
      await this.#opening;
    }
  }

  /** Closes the open connections (a destroyed one, if the adapter went away, is skipped). */
  close(): Promise<void> {
    return Promise.all(
      this.#open
        .filter((x) => !x.s.destroyed && !x.s.closed)
        .map(
          (x) =>
            new Promise<void>((r) => {
              x.s.close(r);
            }),
        ),
    ).then(() => undefined);
  }
}

/** When a burst went out: set once its requests are all handed to HTTP/2 (see bursts()). */
interface BurstClock {
  readonly start: number;
  t0: number;
}

function since(clock: BurstClock, at: number): { ms: number; lead: number } {
  return { ms: at - clock.t0, lead: clock.t0 - clock.start };
}

/**
 * One request; resolves (never rejects) with its latency from its burst's hand-off to HTTP/2
 * (waiting for a new connection included, as the HPA controller would wait) to the end of its
 * answer's stream, and whether the answer was right.
 */
async function send(
  pool: Sessions,
  creds: AggregatorCredentials,
  hpa: FleetRequest,
  clock: BurstClock,
): Promise<Sample> {
  let slot: Awaited<ReturnType<Sessions["acquire"]>>;
  try {
    slot = await pool.acquire();
  } catch (e) {
    return { ...since(clock, performance.now()), ok: false, error: `${hpa.path}: ${String(e)}` };
  }
  try {
    let answer: TimedAnswer;
    try {
      answer = await h2Exchange(
        slot.s,
        { ":method": "GET", ":path": hpa.path, accept: "application/json", ...creds.headers },
        undefined,
        30_000,
      );
    } catch (e) {
      return { ...since(clock, performance.now()), ok: false, error: `${hpa.path}: ${String(e)}` };
    }
    const { status, body } = answer;
    const t = since(clock, answer.at);
    let items = -1;
    try {
      items = (JSON.parse(body) as { items?: unknown[] }).items?.length ?? -1;
    } catch {
      // Not JSON: an error below.
    }
    const ok = status === 200 && items === hpa.items;
    return ok
      ? { ...t, ok }
      : {
          ...t,
          ok,
          ...(status === 429 ? { rejected: true } : {}),
          error: `${hpa.path} → ${String(status)} (${String(items)} items): ${body.slice(0, 300)}`,
        };
  } finally {
    slot.active--;
  }
}

/**
 * Sends each second's due HPAs together: `warmUp` periods, then `cycles` measured ones, on one
 * schedule (burst k at start + k s), so the first measured burst comes a second after the last
 * warm-up one, as the arrival model says, however fast that one was answered. `onMeasure` runs
 * when the first measured burst is due, before it is sent (counters read there). Returns the
 * measured requests' samples, the most requests still unanswered when a measured burst went out
 * (the adapter's queue, if it falls behind), and each measured burst's hand-off time.
 *
 * The clock of a burst starts when all its requests are handed to HTTP/2. Node writes a stream's
 * HEADERS only when the JavaScript that made it yields, so none of a burst's requests is on the
 * wire before the last is made: ~12 ms of this process' CPU at 667 requests, which a Go client
 * (one goroutine per request) does not spend. Timed from the burst's start, every request carried
 * that time as the adapter's latency.
 */
async function bursts(
  s: Sessions,
  creds: AggregatorCredentials,
  hpas: readonly FleetRequest[],
  schedule: Schedule,
  onMeasure: () => Promise<void>,
): Promise<{ samples: Sample[]; maxOutstanding: number; handOffMs: number[] }> {
  const period = schedule.periodS;
  const byPhase = Array.from({ length: period }, (_, p) => hpas.filter((h) => h.phase === p));
  const warmUpBursts = schedule.warmUp * period;
  const measured: Promise<Sample>[] = [];
  const warmUp: Promise<Sample>[] = [];
  let outstanding = 0;
  let maxOutstanding = 0;
  const handOffMs: number[] = [];
  const t0 = performance.now();
  for (let k = 0; k < warmUpBursts + schedule.cycles * period; k++) {
    const wait = t0 + k * 1000 - performance.now();
    if (wait > 0) await sleep(wait);
    // At the measured cycles' start, not before the wait: the warm-up's last burst (its queries,
    // CPU and reviews) stays out of the counters.
    if (k === warmUpBursts) await onMeasure();
    if (k >= warmUpBursts) maxOutstanding = Math.max(maxOutstanding, outstanding);
    const start = performance.now();
    const clock: BurstClock = { start, t0: start };
    for (const h of byPhase[k % period] ?? []) {
      outstanding++;
      (k < warmUpBursts ? warmUp : measured).push(
        send(s, creds, h, clock).finally(() => {
          outstanding--;
        }),
      );
    }
    // Each send() makes its stream after a microtask (acquire); a macrotask later they all have,
    // and no answer can have arrived: nothing was written yet.
    await new Promise<void>((resolve) => setImmediate(resolve));
    clock.t0 = performance.now();
    if (k >= warmUpBursts) handOffMs.push(clock.t0 - start);
  }
  await Promise.all(warmUp);
  return { samples: await Promise.all(measured), maxOutstanding, handOffMs };
}

// ---------------------------------------------------------------------------------------------
// The child process and its parent's handle.

const CHILD_ENV = "KCM_BENCH_FLEET_CLIENT";

interface Job {
  readonly url: string;
  readonly creds: AggregatorCredentials;
  readonly hpas: readonly FleetRequest[];
  readonly schedule: Schedule;
}

type FromChild =
  | { readonly type: "ready" }
  | { readonly type: "measure" }
  | { readonly type: "done"; readonly result: BurstResult }
  | { readonly type: "error"; readonly message: string };
type ToChild = { readonly type: "job"; readonly job: Job } | { readonly type: "measured" };

/** Keeps the message of the first failure and of the first 429 only (the rest cross IPC bare). */
function trimmed(samples: readonly Sample[]): Sample[] {
  let failed = false;
  let rejected = false;
  return samples.map((x) => {
    if (x.error === undefined) return x;
    const first = x.rejected === true ? !rejected : !failed;
    if (x.rejected === true) rejected = true;
    else failed = true;
    return first
      ? x
      : { ms: x.ms, lead: x.lead, ok: x.ok, ...(x.rejected === true ? { rejected: true } : {}) };
  });
}

async function child(job: Job): Promise<void> {
  const pool = new Sessions(job.url, job.creds);
  try {
    const { samples, maxOutstanding, handOffMs } = await bursts(
      pool,
      job.creds,
      job.hpas,
      job.schedule,
      () => {
        const go = new Promise<void>((resolve) => {
          process.once("message", () => {
            resolve();
          });
        });
        process.send?.({ type: "measure" } satisfies FromChild);
        return go;
      },
    );
    const result: BurstResult = {
      samples: trimmed(samples),
      maxOutstanding,
      connections: pool.count,
      handOffMs,
    };
    process.send?.({ type: "done", result } satisfies FromChild);
  } finally {
    await pool.close();
  }
}

/**
 * Sends the fleet's bursts from a child process: `warmUp` periods, then `cycles` measured ones, on
 * one schedule. `onMeasure` runs in this process when the first measured burst is due, before it
 * is sent (counters read there).
 */
export async function runFleetBursts(
  job: Job,
  onMeasure: () => Promise<void>,
): Promise<BurstResult> {
  const proc: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, [CHILD_ENV]: "1" },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = once(proc, "exit");
  try {
    return await new Promise<BurstResult>((resolve, reject) => {
      proc.on("message", (m: FromChild) => {
        if (m.type === "ready") proc.send({ type: "job", job } satisfies ToChild);
        else if (m.type === "done") resolve(m.result);
        else if (m.type === "error") reject(new Error(`fleet client: ${m.message}`));
        else
          onMeasure().then(
            () => proc.send({ type: "measured" } satisfies ToChild),
            (e: unknown) => {
              reject(e instanceof Error ? e : new Error(String(e)));
            },
          );
      });
      proc.once("exit", (code) => {
        reject(new Error(`fleet client exited (${String(code)}) before its result`));
      });
    });
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    await exited;
  }
}

// The job comes over IPC: 10,000 requests' paths are beyond what an environment variable holds.
if (process.env[CHILD_ENV] === "1" && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.once("message", (m: ToChild) => {
    if (m.type !== "job") return;
    // Done or failed, the parent ends this process once it has the message (exiting here could
    // lose it).
    child(m.job).catch((e: unknown) => {
      process.send?.({ type: "error", message: String(e) } satisfies FromChild);
    });
  });
  process.on("disconnect", () => process.exit(0));
  process.send?.({ type: "ready" } satisfies FromChild);
}
