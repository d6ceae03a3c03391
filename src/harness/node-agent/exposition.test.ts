import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cadvisorText, resourceText } from "./exposition.ts";

test("cAdvisor and resource endpoints report a real process's CPU and memory", async () => {
  // A process that burns a little CPU so its counter is above zero.
  const child = spawn(process.execPath, [
    "-e",
    "const e=Date.now()+300;while(Date.now()<e);setTimeout(()=>{},5000)",
  ]);
  await new Promise((r) => setTimeout(r, 500));
  const sample = {
    namespace: "ns",
    pod: 'we"ird',
    podUid: "uid-1",
    container: "app",
    image: "demo",
    pid: child.pid ?? 0,
    startedAt: Date.now(),
  };
  const text = cadvisorText([sample]);
  const mem =
    /^container_memory_working_set_bytes\{container="app",.*namespace="ns",pod="we\\"ird"\} (\d+)$/m.exec(
      text,
    );
  assert.ok(mem, text);
  assert.ok(Number(mem[1]) > 1_000_000, "a node process uses more than 1 MB");
  const cpu = /^container_cpu_usage_seconds_total\{container="app",.*\} ([\d.e-]+)$/m.exec(text);
  assert.ok(cpu && Number(cpu[1]) > 0.1, text);
  assert.match(text, /^container_memory_usage_bytes\{id="\/"\} \d+$/m);
  const res = resourceText([sample], 1_700_000_000_000);
  assert.match(res, /^node_cpu_usage_seconds_total [\d.]+ 1700000000000$/m);
  assert.match(
    res,
    /^container_memory_working_set_bytes\{container="app",namespace="ns",pod="we\\"ird"\} \d+ 1700000000000$/m,
  );
  child.kill();
});
