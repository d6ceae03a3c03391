import assert from "node:assert/strict";
import { test } from "node:test";
import { TextFormatError, parseTextFormat, scanTextFormat } from "./text-format.ts";

test("parses samples, labels with escapes, special values and timestamps; skips comments", () => {
  const text = [
    "# HELP node_cpu_usage_seconds_total Cumulative cpu time",
    "# TYPE node_cpu_usage_seconds_total counter",
    "node_cpu_usage_seconds_total 357.35 1700000000123",
    "",
    'container_cpu_usage_seconds_total{container="c",namespace="ns",pod="p"} 0.5 1700000000456',
    'weird{a="x\\"y",b="back\\\\slash",c="new\\nline",} NaN',
    '  spaced { a = "1" , b="2" }   +Inf  ',
    "neg -Inf -5",
    "sci 1.5e3",
    "scrape_error 0",
  ].join("\n");
  assert.deepEqual(parseTextFormat(text), [
    { name: "node_cpu_usage_seconds_total", labels: {}, value: 357.35, timestampMs: 1700000000123 },
    {
      name: "container_cpu_usage_seconds_total",
      labels: { container: "c", namespace: "ns", pod: "p" },
      value: 0.5,
      timestampMs: 1700000000456,
    },
    { name: "weird", labels: { a: 'x"y', b: "back\\slash", c: "new\nline" }, value: NaN },
    { name: "spaced", labels: { a: "1", b: "2" }, value: Infinity },
    { name: "neg", labels: {}, value: -Infinity, timestampMs: -5 },
    { name: "sci", labels: {}, value: 1500 },
    { name: "scrape_error", labels: {}, value: 0 },
  ]);
});

test("a malformed line is an error naming the line", () => {
  for (const [text, why] of [
    ["ok 1\nbad{a=1} 2", /line 2: expected " to start a label value/],
    ['x{a="1"', /line 1: unterminated|expected , or }/],
    ["x 1 2 3", /line 1: expected a value and an optional timestamp/],
    ["x abc", /line 1: invalid value "abc"/],
    ["x 1 1.5", /line 1: invalid timestamp "1.5"/],
    ['x{a="1",a="2"} 1', /duplicate label a/],
    ['x{a="\\t"} 1', /invalid escape/],
    ["1x 1", /expected a metric name/],
  ] as const) {
    assert.throws(
      () => parseTextFormat(text),
      (e: unknown) => {
        assert.ok(e instanceof TextFormatError);
        assert.match(e.message, why);
        return true;
      },
    );
  }
});

test("scanTextFormat builds only the wanted metrics, still checks the others, and takes CRLF", () => {
  const seen: string[] = [];
  scanTextFormat(
    'keep{a="1"} 1 5\r\nskip{b="x\\"y"} 2\r\n# comment\r\nkeep 3\r\n',
    (name) => name === "keep",
    (s) =>
      seen.push(`${s.name}${JSON.stringify(s.labels)}=${String(s.value)}@${String(s.timestampMs)}`),
  );
  assert.deepEqual(seen, ['keep{"a":"1"}=1@5', "keep{}=3@undefined"]);
  for (const bad of ['skip{b="1} 2', "skip 1 2 3", "skip abc", 'skip{b="\\t"} 1']) {
    assert.throws(
      () => {
        scanTextFormat(
          `keep 1\n${bad}`,
          (name) => name === "keep",
          () => undefined,
        );
      },
      (e: unknown) => e instanceof TextFormatError && /^line 2: /.test(e.message),
      bad,
    );
  }
});

test("values read from the bytes equal Go's ParseFloat (Number) on the same text, bit for bit", () => {
  const texts = [
    "0",
    "-0",
    "+0",
    ".5",
    "5.",
    "1e22",
    "1e23",
    "9007199254740993",
    "1.7976931348623157e308",
  ];
  // A fixed generator (no Math.random): the same texts on every run.
  let x = 0x2545f491;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  for (let k = 0; k < 3000; k++) {
    const v = (next() - 0.2) * 10 ** Math.floor(next() * 40 - 20);
    texts.push(
      String(v),
      v.toExponential(),
      v.toExponential(Math.floor(next() * 16)),
      v.toFixed(Math.floor(next() * 12)),
      v.toPrecision(1 + Math.floor(next() * 20)),
      String(Math.floor(next() * 2 ** 53)),
    );
  }
  const body = texts
    .map((t, k) => `m${String(k)} ${t} ${String(1_700_000_000_000 + k)}`)
    .join("\n");
  const got = parseTextFormat(body);
  assert.equal(got.length, texts.length);
  texts.forEach((t, k) => {
    assert.ok(Object.is(got[k]?.value, Number(t)), `${t}: ${String(got[k]?.value)}`);
    assert.equal(got[k]?.timestampMs, 1_700_000_000_000 + k);
  });
  assert.equal(
    parseTextFormat("m 1 12345678901234567890")[0]?.timestampMs,
    Number("12345678901234567890"),
  );
});

test("a label text repeated in a body is checked once and gives the same labels; another is parsed anew", () => {
  const got = parseTextFormat(
    ['a{x="1",y="2"} 1', 'b{x="1",y="2"} 2', 'c{x="1",y="3"} 3', 'd{x="1", y="2"} 4'].join("\n"),
  );
  assert.equal(got[0]?.labels, got[1]?.labels);
  assert.deepEqual(got[2]?.labels, { x: "1", y: "3" });
  assert.deepEqual(got[3]?.labels, { x: "1", y: "2" });
  // A label text first seen on a family not built is built when a wanted family repeats it.
  const seen: unknown[] = [];
  scanTextFormat(
    'skip{x="a\\"b"} 1\nkeep{x="a\\"b"} 2\n',
    (n) => n === "keep",
    (s) => {
      seen.push(s.labels);
    },
  );
  assert.deepEqual(seen, [{ x: 'a"b' }]);
  // A duplicate label is still an error on a wanted line, even after an unwanted one passed.
  assert.throws(() => {
    scanTextFormat(
      'skip{a="1",a="2"} 1\nkeep{a="1",a="2"} 1',
      (n) => n === "keep",
      () => undefined,
    );
  }, /line 2: duplicate label a/);
});
