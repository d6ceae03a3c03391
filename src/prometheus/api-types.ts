/**
 * @module prometheus/api-types
 * Typed shapes of the Prometheus HTTP API `data` payloads and their decoders. Decoding is by hand
 * rather than through a schema library: series lists can hold many thousands of entries and this
 * runs on every request. A payload that does not fit throws a plain Error; the client turns it
 * into a `bad_response` PrometheusError.
 */

/** A label set, `__name__` included when Prometheus returns it. */
export type Labels = Readonly<Record<string, string>>;

/**
 * One sample as on the wire, `[unix seconds, value]`, but with the value parsed: Prometheus sends
 * values as strings so it can say `"NaN"`, `"+Inf"` and `"-Inf"`, which become the JS numbers.
 */
export type SamplePair = readonly [timestamp: number, value: number];

export interface VectorSample {
  readonly metric: Labels;
  readonly value: SamplePair;
}

export interface MatrixSeries {
  readonly metric: Labels;
  readonly values: readonly SamplePair[];
}

export type QueryData =
  | { readonly resultType: "vector"; readonly result: readonly VectorSample[] }
  | { readonly resultType: "matrix"; readonly result: readonly MatrixSeries[] }
  | { readonly resultType: "scalar"; readonly result: SamplePair }
  | { readonly resultType: "string"; readonly result: readonly [timestamp: number, value: string] };

/** A query result, plus any warnings the server attached (Thanos partial responses, for one). */
export type QueryResult = QueryData & { readonly warnings: readonly string[] };

/** Parses a Prometheus sample value string (Go `strconv.ParseFloat` spellings). */
export function parseSampleValue(s: string): number {
  switch (s) {
    case "NaN":
      return NaN;
    case "+Inf":
    case "Inf":
      return Infinity;
    case "-Inf":
      return -Infinity;
    default: {
      const n = Number(s);
      // Number("") is 0 and Number(" 1") is 1: neither is a Prometheus value.
      if (s.trim() !== s || s === "" || Number.isNaN(n)) {
        throw new Error(`invalid sample value ${JSON.stringify(s)}`);
      }
      return n;
    }
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// Error locations (`result[3]`) are spelled out only when there is an error: a query over many
// series decodes each one, and building the text for every item was most of what decoding
// allocated besides the values.
function at(ctx: string, i: number | undefined): string {
  return i === undefined ? ctx : `${ctx}[${String(i)}]`;
}

function decodeLabels(v: unknown, ctx: string, i?: number): Labels {
  if (!isRecord(v)) throw new Error(`${at(ctx, i)}: expected a label object`);
  for (const k in v) {
    if (typeof v[k] !== "string") throw new Error(`${at(ctx, i)}: label ${k} is not a string`);
  }
  return v as Labels;
}

function decodeRawPair(v: unknown, ctx: string, i?: number): readonly [number, string] {
  if (!Array.isArray(v) || v.length !== 2) throw new Error(`${at(ctx, i)}: expected [time, value]`);
  const t: unknown = v[0];
  const s: unknown = v[1];
  if (typeof t !== "number" || typeof s !== "string") {
    throw new Error(`${at(ctx, i)}: expected [number, string]`);
  }
  return [t, s];
}

function decodePair(v: unknown, ctx: string, i?: number): SamplePair {
  const [t, s] = decodeRawPair(v, ctx, i);
  return [t, parseSampleValue(s)];
}

function decodeVector(v: unknown): VectorSample[] {
  if (!Array.isArray(v)) throw new Error("vector result is not an array");
  const items = v as unknown[];
  const out: VectorSample[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (!isRecord(item)) throw new Error(`${at("result", i)}: expected an object`);
    // Native histogram samples carry `histogram` instead of `value`; no metrics API can use them.
    if (item["value"] === undefined && item["histogram"] !== undefined) continue;
    out.push({
      metric: decodeLabels(item["metric"], "result", i),
      value: decodePair(item["value"], "result", i),
    });
  }
  return out;
}

function decodeMatrix(v: unknown): MatrixSeries[] {
  if (!Array.isArray(v)) throw new Error("matrix result is not an array");
  return (v as unknown[]).map((item, i) => {
    if (!isRecord(item)) throw new Error(`${at("result", i)}: expected an object`);
    const values = item["values"] ?? [];
    if (!Array.isArray(values)) throw new Error(`${at("result", i)}: values is not an array`);
    const ctx = `${at("result", i)}.values`;
    return {
      metric: decodeLabels(item["metric"], "result", i),
      values: (values as unknown[]).map((p, j) => decodePair(p, ctx, j)),
    };
  });
}

export function decodeQueryData(data: unknown): QueryData {
  if (!isRecord(data)) throw new Error("query data is not an object");
  const resultType = data["resultType"];
  const result = data["result"];
  switch (resultType) {
    case "vector":
      return { resultType, result: decodeVector(result) };
    case "matrix":
      return { resultType, result: decodeMatrix(result) };
    case "scalar":
      return { resultType, result: decodePair(result, "scalar result") };
    case "string":
      return { resultType, result: decodeRawPair(result, "string result") };
    default:
      throw new Error(`unknown resultType ${JSON.stringify(resultType)}`);
  }
}

/** `/api/v1/series` data: a list of label sets. */
export function decodeSeries(data: unknown): Labels[] {
  if (!Array.isArray(data)) throw new Error("series data is not an array");
  return (data as unknown[]).map((s, i) => decodeLabels(s, "data", i));
}

/** `/api/v1/labels` and `/api/v1/label/<name>/values` data: a list of strings. */
export function decodeStringList(data: unknown): string[] {
  if (!Array.isArray(data)) throw new Error("data is not an array");
  for (const s of data as unknown[]) {
    if (typeof s !== "string") throw new Error("data holds a non-string");
  }
  return data as string[];
}

export function decodeWarnings(v: unknown): string[] {
  return Array.isArray(v) ? (v as unknown[]).filter((w): w is string => typeof w === "string") : [];
}
