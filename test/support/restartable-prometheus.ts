/**
 * @module test/support/restartable-prometheus
 * A real Prometheus that a test can stop and start again on the same port and data: the given
 * OpenMetrics text is backfilled once (`promtool tsdb create-blocks-from openmetrics`), and each
 * start serves it again, as a Prometheus restarted by its operator would.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { freePort } from "./prometheus.ts";
import { stopChild } from "./process.ts";

const exec = promisify(execFile);
const PROMETHEUS = process.env["K8SCM_PROMETHEUS_BIN"] ?? "prometheus";
const PROMTOOL = process.env["K8SCM_PROMTOOL_BIN"] ?? "promtool";

export interface RestartablePrometheus {
  readonly url: string;
  readonly running: boolean;
  /** Starts it (again) and waits for /-/ready. */
  start(): Promise<void>;
  /** SIGTERM, SIGKILL after 5 s; the data stays for the next start. */
  stop(): Promise<void>;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
}

export async function restartablePrometheus(openMetrics: string): Promise<RestartablePrometheus> {
  const dir = await mkdtemp(join(tmpdir(), "kcm-rprom-"));
  const input = join(dir, "input.om");
  const config = join(dir, "prometheus.yml");
  const data = join(dir, "data");
  await writeFile(input, openMetrics);
  await writeFile(config, "global: {}\n");
  await exec(PROMTOOL, ["tsdb", "create-blocks-from", "openmetrics", input, data]);
  const port = await freePort();
  const url = `http://127.0.0.1:${String(port)}`;
  let child: ChildProcess | undefined;
  let log = "";
  const self: RestartablePrometheus = {
    url,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async start() {
      if (self.running) return;
      log = "";
      const c = spawn(
        PROMETHEUS,
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${data}`,
          "--storage.tsdb.retention.time=100y",
          `--web.listen-address=127.0.0.1:${String(port)}`,
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      c.stderr.on("data", (d: Buffer) => {
        log = (log + d.toString()).slice(-20_000);
      });
      child = c;
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        if (c.exitCode !== null) throw new Error(`prometheus exited early:\n${log}`);
        try {
          const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
          await res.arrayBuffer();
          if (res.ok) return;
        } catch {
          // Not listening yet.
        }
        await sleep(100);
      }
      throw new Error(`prometheus not ready after 60 s:\n${log}`);
    },
    async stop() {
      if (child !== undefined) await stopChild(child);
      child = undefined;
    },
    async dispose() {
      await self.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return self;
}
