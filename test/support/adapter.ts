/**
 * @module test/support/adapter
 * The adapter as a real child process (`bin/k8s-custom-metrics.js serve`) on a free loopback
 * port, plain HTTP: started, waited on until `/readyz` answers 200 (the first discovery pass
 * succeeded), and stopped with SIGTERM (SIGKILL after 5 s). Its output is kept for assertions and
 * for failure messages.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./prometheus.ts";
import { stopChild } from "./process.ts";

const BIN = fileURLToPath(new URL("../../bin/k8s-custom-metrics.js", import.meta.url));
const READY_TIMEOUT_MS = 60_000;

export interface AdapterOptions {
  readonly prometheusUrl: string;
  readonly kubeconfig: string;
  /** A prometheus-adapter config file; without it the adapter uses the default rules. */
  readonly config?: string;
  /** Go duration, e.g. `2s`. */
  readonly relistInterval?: string;
  /** Go duration; backfilled series are old, so tests widen it. */
  readonly maxAge?: string;
  readonly extraArgs?: readonly string[];
  /** Wait for /readyz 200 (default true); false for tests of startup failures. */
  readonly waitReady?: boolean;
  /** Another `bin/k8s-custom-metrics.js` (a built layout); default: this checkout's, from src/. */
  readonly bin?: string;
}

export interface RunningAdapter {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Everything the process wrote to stdout and stderr so far. */
  logs(): string;
  /** Sends a signal to the process (SIGHUP: reload the config). */
  signal(name: NodeJS.Signals): void;
  stop(): Promise<void>;
}

/** Starts the adapter; retries on another port if the chosen one was taken meanwhile. */
export async function startAdapter(o: AdapterOptions): Promise<RunningAdapter> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${String(port)}`;
    const args = [
      o.bin ?? BIN,
      "serve",
      `--prometheus-url=${o.prometheusUrl}`,
      `--lister-kubeconfig=${o.kubeconfig}`,
      `--insecure-http-port=${String(port)}`,
      ...(o.config === undefined ? [] : [`--config=${o.config}`]),
      ...(o.relistInterval === undefined ? [] : [`--metrics-relist-interval=${o.relistInterval}`]),
      ...(o.maxAge === undefined ? [] : [`--metrics-max-age=${o.maxAge}`]),
      ...(o.extraArgs ?? []),
    ];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    const append = (d: Buffer) => {
      // Bounded: a long test must not grow memory without limit.
      log = (log + d.toString()).slice(-1_000_000);
    };
    child.stdout.on("data", append);
    child.stderr.on("data", append);
    const adapter: RunningAdapter = {
      url,
      logs: () => log,
      signal: (name) => {
        child.kill(name);
      },
      stop: () => stopChild(child),
    };
    if (o.waitReady === false) return adapter;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let ready = false;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status === 200) {
          ready = true;
          break;
        }
      } catch {
        // Not listening yet.
      }
      await sleep(100);
    }
    if (ready) return adapter;
    await stopChild(child);
    if (attempt < 3 && log.includes("KCM_ERR_PORT_BUSY")) continue;
    throw new Error(`the adapter did not become ready (${args.slice(1).join(" ")}):\n${log}`);
  }
}

export interface JsonResponse {
  readonly status: number;
  readonly body: unknown;
}

/** GET a path of the adapter and parse the JSON body. */
export async function getJson(adapter: RunningAdapter, path: string): Promise<JsonResponse> {
  const res = await fetch(`${adapter.url}${path}`, { signal: AbortSignal.timeout(20_000) });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

/** Replaces every `timestamp` value with a marker, after checking it is RFC 3339 UTC seconds. */
export function normalizeTimestamps(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalizeTimestamps);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === "timestamp" && typeof x === "string") {
        out[k] = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(x) ? "<ts>" : `<bad ts ${x}>`;
      } else {
        out[k] = normalizeTimestamps(x);
      }
    }
    return out;
  }
  return v;
}
