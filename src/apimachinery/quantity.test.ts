/**
 * @module apimachinery/quantity.test
 * Golden cases restated from apimachinery `pkg/api/resource/quantity_test.go`, plus the
 * prometheus-adapter value conversions (`int64(v*1000)` milli, DecimalSI).
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  Quantity,
  QuantityError,
  QUANTITY_ERRORS,
  newMilliQuantity,
  newScaledQuantity,
  parseQuantity,
  type QuantityFormat,
} from "./quantity.ts";
import { fromFloatMilli, fromNanocores, goFloatToInt64 } from "./quantity-conversions.ts";

const DSI: QuantityFormat = "DecimalSI";
const BSI: QuantityFormat = "BinarySI";
const DEX: QuantityFormat = "DecimalExponent";

function q(mantissa: bigint, exponent: number, format: QuantityFormat): Quantity {
  return new Quantity(mantissa, exponent, format);
}

const MAX_INT64 = 2n ** 63n - 1n;

describe("parse (TestQuantityParse)", () => {
  const table: [string, Quantity][] = [
    ["0", q(0n, 0, DSI)],
    ["0n", q(0n, 0, DSI)],
    ["0u", q(0n, 0, DSI)],
    ["0m", q(0n, 0, DSI)],
    ["0Ki", q(0n, 0, BSI)],
    ["0k", q(0n, 0, DSI)],
    ["0Mi", q(0n, 0, BSI)],
    ["0M", q(0n, 0, DSI)],
    ["0Gi", q(0n, 0, BSI)],
    ["0G", q(0n, 0, DSI)],
    ["0Ti", q(0n, 0, BSI)],
    ["0T", q(0n, 0, DSI)],
    ["1", q(1n, 0, DSI)],
    ["1Ki", q(1024n, 0, BSI)],
    ["8Ki", q(8n * 1024n, 0, BSI)],
    ["7Mi", q(7n * 1024n ** 2n, 0, BSI)],
    ["6Gi", q(6n * 1024n ** 3n, 0, BSI)],
    ["5Ti", q(5n * 1024n ** 4n, 0, BSI)],
    ["4Pi", q(4n * 1024n ** 5n, 0, BSI)],
    ["3Ei", q(3n * 1024n ** 6n, 0, BSI)],
    ["10Ti", q(10n * 1024n ** 4n, 0, BSI)],
    ["100Ti", q(100n * 1024n ** 4n, 0, BSI)],
    ["5n", q(5n, -9, DSI)],
    ["4u", q(4n, -6, DSI)],
    ["3m", q(3n, -3, DSI)],
    ["9", q(9n, 0, DSI)],
    ["8k", q(8n, 3, DSI)],
    ["50k", q(5n, 4, DSI)],
    ["7M", q(7n, 6, DSI)],
    ["6G", q(6n, 9, DSI)],
    ["5T", q(5n, 12, DSI)],
    ["40T", q(4n, 13, DSI)],
    ["300T", q(3n, 14, DSI)],
    ["2P", q(2n, 15, DSI)],
    ["1E", q(1n, 18, DSI)],
    ["1E-3", q(1n, -3, DEX)],
    ["1e3", q(1n, 3, DEX)],
    ["1E6", q(1n, 6, DEX)],
    ["1e9", q(1n, 9, DEX)],
    ["1E12", q(1n, 12, DEX)],
    ["1e15", q(1n, 15, DEX)],
    ["1E18", q(1n, 18, DEX)],
    ["1e14", q(1n, 14, DEX)],
    ["1e13", q(1n, 13, DEX)],
    ["100.035k", q(100035n, 0, DSI)],
    ["0.001", q(1n, -3, DSI)],
    ["0.0005k", q(5n, -1, DSI)],
    ["0.005", q(5n, -3, DSI)],
    ["0.05", q(5n, -2, DSI)],
    ["0.5", q(5n, -1, DSI)],
    ["0.00050k", q(5n, -1, DSI)],
    ["0.00500", q(5n, -3, DSI)],
    ["0.05000", q(5n, -2, DSI)],
    ["0.50000", q(5n, -1, DSI)],
    ["0.5e0", q(5n, -1, DEX)],
    ["0.5e-1", q(5n, -2, DEX)],
    ["0.5e-2", q(5n, -3, DEX)],
    ["10.035M", q(10035n, 3, DSI)],
    ["1.2e3", q(12n, 2, DEX)],
    ["1.3E+6", q(13n, 5, DEX)],
    ["1.40e9", q(14n, 8, DEX)],
    ["1.53E12", q(153n, 10, DEX)],
    ["1.6e15", q(16n, 14, DEX)],
    ["1.7E18", q(17n, 17, DEX)],
    ["9.01", q(901n, -2, DSI)],
    ["8.1k", q(81n, 2, DSI)],
    ["7.123456M", q(7123456n, 0, DSI)],
    ["6.987654321G", q(6987654321n, 0, DSI)],
    ["5.444T", q(5444n, 9, DSI)],
    ["40.1T", q(401n, 11, DSI)],
    ["300.2T", q(3002n, 11, DSI)],
    ["2.5P", q(25n, 14, DSI)],
    ["1.01E", q(101n, 16, DSI)],
    // Rounded up to nano, or capped.
    ["3.001n", q(4n, -9, DSI)],
    ["1.1E-9", q(2n, -9, DEX)],
    ["0.0000000001", q(1n, -9, DSI)],
    ["0.0000000005", q(1n, -9, DSI)],
    ["0.00000000050", q(1n, -9, DSI)],
    ["0.5e-9", q(1n, -9, DEX)],
    ["0.9n", q(1n, -9, DSI)],
    ["0.00000012345", q(124n, -9, DSI)],
    ["0.00000012354", q(124n, -9, DSI)],
    ["9Ei", q(MAX_INT64, 0, BSI)],
    ["9223372036854775807Ki", q(MAX_INT64, 0, BSI)],
    ["12E", q(12n, 18, DSI)],
    // Fractional binary.
    ["100.035Ki", q(10243584n, -2, BSI)],
    ["0.5Mi", q(512n * 1024n, 0, BSI)],
    ["0.05Gi", q(536870912n, -1, BSI)],
    ["0.025Ti", q(274877906944n, -1, BSI)],
    // Odd but accepted.
    ["0.000000000001Ki", q(2n, -9, DSI)],
    [".001", q(1n, -3, DSI)],
    [".0001k", q(100n, -3, DSI)],
    ["1.", q(1n, 0, DSI)],
    ["1.G", q(1n, 9, DSI)],
  ];
  for (const [input, want] of table) {
    it(input, () => {
      const got = parseQuantity(input);
      assert.equal(got.cmp(want), 0, `${input}: got ${got.toString()}, want ${want.toString()}`);
      assert.equal(got.format, want.format);
    });
    it(`-${input}`, () => {
      const got = parseQuantity(`-${input}`);
      assert.equal(got.cmp(want.neg()), 0);
      assert.equal(got.format, want.format);
    });
    it(`+${input}`, () => {
      const got = parseQuantity(`+${input}`);
      assert.equal(got.cmp(want), 0);
      assert.equal(got.format, want.format);
    });
  }

  const invalid: [string, string][] = [
    ["", QUANTITY_ERRORS.formatWrong],
    ["1.1.M", QUANTITY_ERRORS.formatWrong],
    ["1+1.0M", QUANTITY_ERRORS.formatWrong],
    ["0.1mi", QUANTITY_ERRORS.suffix],
    ["0.1am", QUANTITY_ERRORS.formatWrong],
    ["aoeu", QUANTITY_ERRORS.formatWrong],
    [".5i", QUANTITY_ERRORS.suffix],
    ["1i", QUANTITY_ERRORS.suffix],
    ["-3.01i", QUANTITY_ERRORS.suffix],
    ["-3.01e-", QUANTITY_ERRORS.suffix],
    [" 1", QUANTITY_ERRORS.formatWrong],
    ["1 ", QUANTITY_ERRORS.formatWrong],
    ["Non-Numeric", QUANTITY_ERRORS.formatWrong],
    ["1e", QUANTITY_ERRORS.suffix],
    [".e-20", QUANTITY_ERRORS.numeric],
  ];
  for (const [input, message] of invalid) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseQuantity(input), new QuantityError(message));
    });
  }

  it("parses the scanner's odd corners to zero", () => {
    for (const input of [".", "-.", "+", "-", "00", "-0"]) {
      assert.equal(parseQuantity(input).toString(), "0", input);
    }
  });

  it("rounds absurd negative exponents to 1n without building them", () => {
    assert.equal(parseQuantity("1e-2000000000").toString(), "1e-9");
    assert.equal(parseQuantity("5e-2000000000").milliValue(), 1n);
  });

  it("refuses absurd positive exponents", () => {
    assert.throws(() => parseQuantity("1e999999999"), QuantityError);
  });
});

describe("toString (TestQuantityString)", () => {
  const table: [Quantity, string, string][] = [
    [q(1024n ** 3n, 0, BSI), "1Gi", "1024Mi"],
    [q(300n * 1024n ** 2n, 0, BSI), "300Mi", "307200Ki"],
    [q(6n * 1024n, 0, BSI), "6Ki", ""],
    [q(1001n * 1024n ** 3n, 0, BSI), "1001Gi", "1025024Mi"],
    [q(1024n ** 4n, 0, BSI), "1Ti", "1024Gi"],
    [q(5n, 0, BSI), "5", "5000m"],
    [q(500n, -3, BSI), "500m", "0.5"],
    [q(1n, 9, DSI), "1G", "1000M"],
    [q(1000n, 6, DSI), "1G", "0.001T"],
    [q(1000000n, 3, DSI), "1G", ""],
    [q(1000000000n, 0, DSI), "1G", ""],
    [q(1n, -3, DSI), "1m", "1000u"],
    [q(80n, -3, DSI), "80m", ""],
    [q(1080n, -3, DSI), "1080m", "1.08"],
    [q(108n, -2, DSI), "1080m", "1080000000n"],
    [q(10800n, -4, DSI), "1080m", ""],
    [q(300n, 6, DSI), "300M", ""],
    [q(1n, 12, DSI), "1T", ""],
    [q(1n, 18, DSI), "1E", ""],
    [q(1n, 21, DSI), "1e21", "1000E"],
    [q(5n, 21, DSI), "5e21", "5000E"],
    [q(1n, 24, DSI), "1e24", "1000000E"],
    [q(1234567n, 6, DSI), "1234567M", ""],
    [q(1234567n, -3, BSI), "1234567m", ""],
    [q(3n, 3, DSI), "3k", ""],
    [q(1025n, 0, BSI), "1025", ""],
    [q(0n, 0, DSI), "0", ""],
    [q(0n, 0, BSI), "0", ""],
    [q(1n, 9, DEX), "1e9", ".001e12"],
    [q(1n, -3, DEX), "1e-3", "0.001e0"],
    [q(1n, -9, DEX), "1e-9", "1000e-12"],
    [q(80n, -3, DEX), "80e-3", ""],
    [q(300n, 6, DEX), "300e6", ""],
    [q(1n, 12, DEX), "1e12", ""],
    [q(1n, 3, DEX), "1e3", ""],
    [q(3n, 3, DEX), "3e3", ""],
    [q(0n, 0, DEX), "0", "00"],
    [q(1n, -9, DSI), "1n", ""],
    [q(80n, -9, DSI), "80n", ""],
    [q(1080n, -9, DSI), "1080n", ""],
    [q(108n, -8, DSI), "1080n", ""],
    [q(10800n, -10, DSI), "1080n", ""],
    [q(1n, -6, DSI), "1u", ""],
    [q(80n, -6, DSI), "80u", ""],
    [q(1080n, -6, DSI), "1080u", ""],
  ];
  for (const [value, want, alternate] of table) {
    it(`${want}${alternate ? ` (also from ${alternate})` : ""}`, () => {
      assert.equal(value.toString(), want);
      assert.equal(parseQuantity(want).toString(), want);
      if (alternate) assert.equal(parseQuantity(alternate).toString(), want);
      if (!value.isZero()) assert.equal(value.neg().toString(), `-${want}`);
    });
  }
});

describe("parse then print (TestQuantityParseEmit)", () => {
  const table: [string, string][] = [
    ["1Ki", "1Ki"],
    ["1Mi", "1Mi"],
    ["1Gi", "1Gi"],
    ["1024Mi", "1Gi"],
    ["1000M", "1G"],
    [".001Ki", "1024m"],
    [".000001Ki", "1024u"],
    [".000000001Ki", "1024n"],
    [".000000000001Ki", "2n"],
    ["1.5Gi", "1536Mi"],
    ["1.5Ki", "1536"],
    ["1.5", "1500m"],
    ["2000", "2k"],
    ["1500", "1500"],
    ["0.016", "16m"],
    ["1e3", "1e3"],
    ["1000e0", "1e3"],
    ["8Ei", "9223372036854775807"],
  ];
  for (const [input, want] of table) {
    it(`${input} → ${want}`, () => {
      assert.equal(parseQuantity(input).toString(), want);
      assert.equal(parseQuantity(`-${input}`).toString(), `-${want}`);
    });
  }
  it("keeps a canonical-looking input verbatim, as Go caches it", () => {
    assert.equal(parseQuantity("+5").toString(), "+5");
    assert.equal(parseQuantity("05").toString(), "05");
    assert.equal(parseQuantity("100m").toString(), "100m");
    assert.equal(parseQuantity("1000m").toString(), "1");
  });
  it("serialises as a JSON string", () => {
    assert.equal(JSON.stringify({ v: parseQuantity("1.5") }), '{"v":"1500m"}');
  });
});

describe("milli and scaled constructors", () => {
  const milli: [bigint, QuantityFormat, string, boolean][] = [
    [1n, DSI, "1m", true],
    [1000n, DSI, "1", true],
    [1234000n, DSI, "1234", true],
    [1024n, BSI, "1024m", false],
    [1024n * 1024n, BSI, "1048576m", false],
  ];
  for (const [value, format, want, exact] of milli) {
    it(`newMilliQuantity(${value}, ${format}) → ${want} (TestMilliNewSet)`, () => {
      const got = newMilliQuantity(value, format);
      assert.equal(got.toString(), want);
      if (exact) assert.equal(parseQuantity(got.toString()).milliValue(), value);
    });
  }
  const plain: [bigint, QuantityFormat, string][] = [
    [1n, DSI, "1"],
    [1000n, DSI, "1k"],
    [1234000n, DSI, "1234k"],
    [1024n, BSI, "1Ki"],
    [1024n * 1024n, BSI, "1Mi"],
  ];
  for (const [value, format, want] of plain) {
    it(`Quantity.fromInt(${value}, ${format}) → ${want} (TestNewSet)`, () => {
      const got = Quantity.fromInt(value, format);
      assert.equal(got.toString(), want);
      assert.equal(parseQuantity(want).value(), value);
    });
  }
  const scaled: [bigint, number, string][] = [
    [1n, -9, "1n"],
    [1000n, -9, "1u"],
    [1n, -6, "1u"],
    [1000n, -6, "1m"],
    [1n, -3, "1m"],
    [1000n, -3, "1"],
    [1n, 0, "1"],
    [0n, -9, "0"],
    [0n, -6, "0"],
    [0n, -3, "0"],
    [0n, 0, "0"],
    [1n, -12, "1e-12"],
  ];
  for (const [value, scale, want] of scaled) {
    it(`newScaledQuantity(${value}, ${scale}) → ${want} (TestNewScaledSet)`, () => {
      const got = newScaledQuantity(value, scale);
      assert.equal(got.toString(), want);
      if (scale >= -9) assert.equal(parseQuantity(want).scaledValue(scale), value);
    });
  }
  it("nanocores print like metrics-server's CPU usage", () => {
    assert.equal(fromNanocores(12345n).toString(), "12345n");
    assert.equal(fromNanocores(1_000_000n).toString(), "1m");
    assert.equal(fromNanocores(250_000_000n).toString(), "250m");
    assert.equal(fromNanocores(2_000_000_000n).toString(), "2");
  });
});

describe("scaledValue (TestScaledValue)", () => {
  const table: [number, number, bigint][] = [
    [-9, -9, 1n],
    [-9, -6, 1n],
    [-9, -3, 1n],
    [-9, 0, 1n],
    [-6, -9, 1000n],
    [-6, -6, 1n],
    [-6, -3, 1n],
    [-6, 0, 1n],
    [-3, -9, 1000n * 1000n],
    [-3, -6, 1000n],
    [-3, -3, 1n],
    [-3, 0, 1n],
    [0, -9, 1000n * 1000n * 1000n],
    [0, -6, 1000n * 1000n],
    [0, -3, 1000n],
    [0, 0, 1n],
    [2, -2, 100n * 100n],
  ];
  for (const [from, to, want] of table) {
    it(`1e${from} at scale ${to}`, () => {
      assert.equal(newScaledQuantity(1n, from).scaledValue(to), want);
    });
  }
  it("milliValue rounds up like the HPA reads it", () => {
    assert.equal(parseQuantity("0.0001").milliValue(), 1n);
    assert.equal(parseQuantity("500m").milliValue(), 500n);
    assert.equal(parseQuantity("1.5").milliValue(), 1500n);
    assert.equal(parseQuantity("2Gi").milliValue(), 2n * 1024n ** 3n * 1000n);
    assert.equal(parseQuantity("1e3").milliValue(), 1_000_000n);
    assert.equal(parseQuantity("-0.0001").milliValue(), -1n);
    assert.equal(parseQuantity("9.01").value(), 10n);
    assert.equal(parseQuantity("-9.01").value(), -10n);
  });
});

describe("arithmetic", () => {
  it("compares across representations (TestQuantityCmp)", () => {
    const table: [string, string, number][] = [
      ["0", "0", 0],
      ["100m", "50m", 1],
      ["50m", "100m", -1],
      ["10000T", "100Gi", 1],
    ];
    for (const [x, y, want] of table) assert.equal(parseQuantity(x).cmp(parseQuantity(y)), want);
  });
  it("compares int64 corners (TestQuantityCmpInt64AndDec)", () => {
    const mostPositive = MAX_INT64;
    const mostNegative = -(2n ** 63n);
    const e18 = 10n ** 18n;
    const table: [Quantity, Quantity, number][] = [
      [q(901n, -2, DSI), q(901n, -2, DSI), 0],
      [q(90n, -1, DSI), q(901n, -2, DSI), -1],
      [q(901n, -2, DSI), q(900n, -2, DSI), 1],
      [q(0n, 1, DSI), q(0n, -1, DSI), 0],
      [q(800n, -3, DSI), q(1n, 0, DSI), -1],
      [q(800n, -3, DSI), q(79n, -2, DSI), 1],
      [q(mostPositive, 0, DSI), q(1n, -1, DSI), 1],
      [q(mostPositive, 1, DSI), q(1n, 0, DSI), 1],
      [q(mostPositive, -16, DSI), q(1n, 3, DSI), -1],
      [q(mostNegative, 0, DSI), q(0n, 0, DSI), -1],
      [q(mostNegative, -18, DSI), q(-1n, 0, DSI), -1],
      [q(mostNegative, -19, DSI), q(-1n, 0, DSI), 1],
      [q(e18, -17, DSI), q(1n, 1, DSI), 0],
      [q(e18, -17, DSI), q(-10n, 0, DSI), 1],
      [q(-e18, -17, DSI), q(-10n, 0, DSI), 0],
      [q(e18 + 1n, -17, DSI), q(1n, 1, DSI), 1],
      [q(e18 - 1n, -17, DSI), q(1n, 1, DSI), -1],
    ];
    for (const [a, b, want] of table) {
      assert.equal(a.cmp(b), want);
      assert.equal(b.cmp(a), want === 0 ? 0 : -want);
    }
  });
  it("adds and subtracts, a zero receiver taking the other's format (TestAdd/TestSub)", () => {
    assert.equal(
      q(10n, 0, DSI)
        .add(q(1n, 1, DSI))
        .cmp(q(20n, 0, DSI)),
      0,
    );
    assert.equal(q(10n, 0, DSI).add(q(1n, 0, BSI)).format, DSI);
    assert.equal(q(10n, 0, BSI).add(q(1n, 0, DSI)).format, BSI);
    assert.equal(q(0n, 0, DSI).add(q(50n, 0, BSI)).format, BSI);
    assert.equal(
      q(10n, 0, DSI)
        .sub(q(1n, 1, DSI))
        .cmp(q(0n, 0, DSI)),
      0,
    );
    assert.equal(
      q(0n, 0, DSI)
        .sub(q(50n, 0, DSI))
        .cmp(q(-50n, 0, DSI)),
      0,
    );
    assert.equal(parseQuantity("100m").add(parseQuantity("0")).toString(), "100m");
    assert.equal(parseQuantity("0").add(parseQuantity("1Gi")).toString(), "1Gi");
    assert.equal(parseQuantity("0").sub(parseQuantity("1Gi")).toString(), "-1Gi");
    assert.equal(
      q(-(2n ** 63n), 0, BSI)
        .neg()
        .toString(),
      "8Ei",
    );
    assert.equal(
      q(-(2n ** 63n), -3, DSI)
        .neg()
        .toString(),
      "9223372036854775808m",
    );
  });
  it("negates (TestQuantityNeg)", () => {
    assert.equal(q(901n, -2, DSI).neg().toString(), "-9010m");
  });
});

describe("prometheus-adapter sample values: fromFloatMilli", () => {
  const table: [number, string][] = [
    [0.016, "16m"],
    [1, "1"],
    [20.5, "20500m"],
    [1500, "1500"],
    [2000, "2k"],
    [-1.5, "-1500m"],
    [0.0004, "0"],
    [0, "0"],
    [Number.NaN, "0"],
    [1.5, "1500m"],
    [0.0019, "1m"],
    [-0.0019, "-1m"],
    [Number.POSITIVE_INFINITY, "9223372036854775807m"],
    [Number.NEGATIVE_INFINITY, "-9223372036854775808m"],
    [1e300, "9223372036854775807m"],
  ];
  for (const [input, want] of table) {
    it(`${String(input)} → ${want}`, () => {
      assert.equal(fromFloatMilli(input).toString(), want);
    });
  }
  it("converts floats like Go's int64() on arm64", () => {
    assert.equal(goFloatToInt64(2.9), 2n);
    assert.equal(goFloatToInt64(-2.9), -2n);
    assert.equal(goFloatToInt64(-(2 ** 63)), -(2n ** 63n));
    assert.equal(goFloatToInt64(2 ** 63), MAX_INT64);
  });
});
