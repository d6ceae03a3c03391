import { test } from "node:test";
import assert from "node:assert/strict";
import {
  globalIntervalFromConfig,
  intervalForJobs,
  intervalsFromTargets,
} from "./scrape-intervals.ts";

test("job intervals from /api/v1/targets: the slowest target of each job", () => {
  const m = intervalsFromTargets({
    status: "success",
    data: {
      activeTargets: [
        { labels: { job: "a" }, scrapeInterval: "15s" },
        { labels: { job: "a" }, scrapeInterval: "1m" },
        { labels: { job: "b" }, scrapeInterval: "2s" },
        { labels: { job: "c" } },
      ],
    },
  });
  assert.deepEqual(
    [...m],
    [
      ["a", 60_000],
      ["b", 2000],
    ],
  );
  assert.equal(intervalsFromTargets({ data: {} }).size, 0);
});

test("global scrape_interval from /api/v1/status/config, Prometheus' 1m when unset", () => {
  assert.equal(
    globalIntervalFromConfig({ data: { yaml: "global:\n  scrape_interval: 30s\n" } }),
    30_000,
  );
  assert.equal(globalIntervalFromConfig({ data: { yaml: "scrape_configs: []\n" } }), 60_000);
  assert.equal(globalIntervalFromConfig(undefined), undefined);
});

test("a rule's interval: the slowest of its jobs, else the global one", () => {
  const intervals = {
    byJob: new Map([
      ["a", 15_000],
      ["b", 30_000],
    ]),
    global: 60_000,
  };
  assert.deepEqual(intervalForJobs(intervals, ["a", "b"]), {
    ms: 30_000,
    source: "scrape interval of job b, the slowest of 2 jobs",
  });
  assert.equal(intervalForJobs(intervals, ["zzz"])?.ms, 60_000);
  assert.equal(intervalForJobs({ byJob: new Map(), global: undefined }, []), undefined);
});
