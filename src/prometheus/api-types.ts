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

function decodeLabels(v: unknown, where: string): Labels {
  if (!isRecord(v)) throw new Error(`${where}: expected a label object`);
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== "string") throw new Error(`${where}: label ${k} is not a string`);
  }
  return v as Labels;
}

function decodeRawPair(v: unknown, where: string): readonly [number, string] {
  if (!Array.isArray(v) || v.length !== 2) throw new Error(`${where}: expected [time, value]`);
  const [t, s] = v as [unknown, unknown];
  if (typeof t !== "number" || typeof s !== "string") {
    throw new Error(`${where}: expected [number, string]`);
  }
  return [t, s];
}

function decodePair(v: unknown, where: string): SamplePair {
  const [t, s] = decodeRawPair(v, where);
  return [t, parseSampleValue(s)];
}

function decodeVector(v: unknown): VectorSample[] {
  if (!Array.isArray(v)) throw new Error("vector result is not an array");
  const out: VectorSample[] = [];
  for (const [i, item] of (v as unknown[]).entries()) {
    const where = `result[${String(i)}]`;
    if (!isRecord(item)) throw new Error(`${where}: expected an object`);
    // Native histogram samples carry `histogram` instead of `value`; no metrics API can use them.
    if (item["value"] === undefined && item["histogram"] !== undefined) continue;
    out.push({
      metric: decodeLabels(item["metric"], where),
      value: decodePair(item["value"], where),
    });
  }
  return out;
}

function decodeMatrix(v: unknown): MatrixSeries[] {
  if (!Array.isArray(v)) throw new Error("matrix result is not an array");
  return (v as unknown[]).map((item, i) => {
    const where = `result[${String(i)}]`;
    if (!isRecord(item)) throw new Error(`${where}: expected an object`);
    const values = item["values"] ?? [];
    if (!Array.isArray(values)) throw new Error(`${where}: values is not an array`);
    return {
      metric: decodeLabels(item["metric"], where),
      values: (values as unknown[]).map((p, j) => decodePair(p, `${where}.values[${String(j)}]`)),
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
  return (data as unknown[]).map((s, i) => decodeLabels(s, `data[${String(i)}]`));
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
