/**
 * @module providers/resource/text-format
 * A small parser of the Prometheus text exposition format (0.0.4), enough for the kubelet's
 * `/metrics/resource`: samples with labels, values (`NaN`, `+Inf`, `-Inf` included) and optional
 * millisecond timestamps. `# HELP` / `# TYPE` and other comments are skipped.
 *
 * It runs every scrape round over every kubelet (about 30 KB per node), so it scans the body's
 * bytes as they came off the socket (no decoding of the whole body to a string), and builds
 * strings only for what the caller keeps: a family is picked by its name's bytes, a label set is
 * parsed once per distinct label text in a body (a kubelet repeats each container's labels in
 * every container family), values and timestamps are read from the bytes. Other lines are still
 * checked for syntax, without building anything, as metrics-server's parser fails a scrape on any
 * malformed line.
 *
 * Values and timestamps are read by text-format-numbers.ts.
 */
import { parseTimestamp, parseValue } from "./text-format-numbers.ts";

export class TextFormatError extends Error {
  override readonly name = "TextFormatError";
}

export interface TextSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Milliseconds since the epoch, when the line carries one. */
  readonly timestampMs?: number;
}

export type Labels = Readonly<Record<string, string>>;

/** What a scan asks of its caller. */
export interface ScanTarget {
  /**
   * A number ≥ 0 for the families to build (passed back to {@link sample}), -1 for the others;
   * the name is `bytes[start, end)` (ASCII, already checked).
   */
  family(bytes: Buffer, start: number, end: number): number;
  /**
   * A sample of a wanted family. The same label text within one body gives the same (frozen)
   * labels object and the same `labelsId`, a small number ≥ 0 counted from 0 in each body (-1
   * when the line has no label set, or one not remembered), so callers may index by it.
   */
  sample(
    family: number,
    labels: Labels,
    value: number,
    timestampMs: number | undefined,
    labelsId: number,
  ): void;
}

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const HASH = 0x23;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_N = 0x6e;

function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
}

/** By byte: 1 for a name's first character, 2 for its others too. */
const NAME = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  if (isNameStart(c)) NAME[c] = 1;
  else if (c >= ZERO && c <= NINE) NAME[c] = 2;
}

const EMPTY: Labels = Object.freeze({});

const latin1 = (b: Buffer, start: number, end: number) => b.toString("latin1", start, end);
const utf8 = (b: Buffer, start: number, end: number) => b.toString("utf8", start, end);

/** Whether `b[start, end)` is the ASCII string `s`. */
export function equalsAscii(b: Uint8Array, start: number, end: number, s: string): boolean {
  if (end - start !== s.length) return false;
  for (let k = 0; k < s.length; k++) if (b[start + k] !== s.charCodeAt(k)) return false;
  return true;
}

interface SeenLabels {
  readonly start: number;
  readonly end: number;
  readonly id: number;
  labels: Labels | undefined;
  readonly next: SeenLabels | undefined;
}

/** Scans the lines of one body; {@link sample} reads `b[start, end)`, which starts at a name. */
class LineScanner {
  readonly #b: Buffer;
  readonly #target: ScanTarget;
  /** Label texts checked in this body, by hash: `b[start, end)`, and their labels once built. */
  readonly #seen = new Map<number, SeenLabels>();
  /** The label set last read: its id (see ScanTarget.sample); ids given so far. */
  #labelsId = -1;
  #ids = 0;
  #end = 0;
  #i = 0;

  constructor(b: Buffer, target: ScanTarget) {
    this.#b = b;
    this.#target = target;
  }

  #code(): number {
    return this.#i < this.#end ? (this.#b[this.#i] ?? -1) : -1;
  }

  #spaces(): void {
    for (let c = this.#code(); c === SPACE || c === TAB; c = this.#code()) this.#i++;
  }

  /** A name's end; `#i` is left after it. */
  #name(what: string): number {
    const b = this.#b;
    const end = this.#end;
    let i = this.#i;
    if (i >= end || NAME[b[i] ?? 0] !== 1) throw new Error(`expected a ${what} name`);
    for (i++; i < end && NAME[b[i] ?? 0] !== 0; i++);
    this.#i = i;
    return i;
  }

  /** A quoted label value; built only when `keep`, else just checked. */
  #quoted(keep: boolean): string {
    if (this.#code() !== QUOTE) throw new Error('expected " to start a label value');
    const start = ++this.#i;
    let escaped = false;
    for (;;) {
      const c = this.#code();
      if (c === -1) throw new Error("unterminated label value");
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        const e = this.#i + 1 < this.#end ? this.#b[this.#i + 1] : undefined;
        if (e !== LOWER_N && e !== BACKSLASH && e !== QUOTE) {
          throw new Error(
            `invalid escape \\${e === undefined ? "" : String.fromCharCode(e)} in label value`,
          );
        }
        escaped = true;
        this.#i += 2;
      } else this.#i++;
    }
    const end = this.#i++;
    if (!keep) return "";
    const raw = utf8(this.#b, start, end);
    if (!escaped) return raw;
    return raw.replace(/\\(.)/g, (_, e: string) => (e === "n" ? "\n" : e));
  }

  /** The label set from `{` on; built when `keep`, else only checked. */
  #labels(keep: boolean): Labels {
    const labels: Record<string, string> | undefined = keep ? {} : undefined;
    this.#i++;
    for (;;) {
      this.#spaces();
      if (this.#code() === RBRACE) break;
      const nameStart = this.#i;
      const nameEnd = this.#name("label");
      this.#spaces();
      if (this.#code() !== EQUALS) {
        throw new Error(`expected = after label ${latin1(this.#b, nameStart, nameEnd)}`);
      }
      this.#i++;
      this.#spaces();
      const name = labels ? latin1(this.#b, nameStart, nameEnd) : "";
      if (labels && Object.hasOwn(labels, name)) throw new Error(`duplicate label ${name}`);
      const value = this.#quoted(keep);
      if (labels) labels[name] = value;
      this.#spaces();
      if (this.#code() === COMMA) {
        this.#i++;
        continue;
      }
      if (this.#code() !== RBRACE) throw new Error("expected , or } after a label value");
      break;
    }
    this.#i++;
    return labels ? Object.freeze(labels) : EMPTY;
  }

  /**
   * The label set from `{` on, built when `keep`. A label text already seen in this body (a
   * kubelet repeats each container's in every container family) was checked then, and is
   * neither checked nor built again: found by a hash of its bytes, then compared byte by byte.
   */
  #labelSet(keep: boolean): Labels {
    const b = this.#b;
    const end = this.#end;
    const open = this.#i;
    // Where the text ends (after the first `}` outside quotes), and its hash.
    let hash = 0;
    let quoted = false;
    let close = -1;
    for (let i = open + 1; i < end; i++) {
      const c = b[i] ?? 0;
      hash = (Math.imul(hash, 31) + c) | 0;
      if (quoted) {
        if (c === BACKSLASH) {
          i++;
          hash = (Math.imul(hash, 31) + (b[i] ?? 0)) | 0;
        } else if (c === QUOTE) quoted = false;
      } else if (c === QUOTE) quoted = true;
      else if (c === RBRACE) {
        close = i + 1;
        break;
      }
    }
    let entry = close === -1 ? undefined : this.#seen.get(hash);
    for (; entry; entry = entry.next) {
      if (entry.end - entry.start !== close - open) continue;
      let k = 0;
      while (k < close - open && b[entry.start + k] === b[open + k]) k++;
      if (k === close - open) break;
    }
    if (entry) {
      if (keep && !entry.labels) entry.labels = this.#labels(true);
      this.#i = close;
      this.#labelsId = entry.id;
      return entry.labels ?? EMPTY;
    }
    const labels = this.#labels(keep);
    this.#labelsId = -1;
    if (this.#i === close) {
      this.#labelsId = this.#ids++;
      this.#seen.set(hash, {
        start: open,
        end: close,
        id: this.#labelsId,
        labels: keep ? labels : undefined,
        next: this.#seen.get(hash),
      });
    }
    return labels;
  }

  /** The next whitespace-separated token's end (its start is `#i` then); `#i` is left after. */
  #token(): number {
    this.#spaces();
    for (let c = this.#code(); c !== -1 && c !== SPACE && c !== TAB; c = this.#code()) this.#i++;
    return this.#i;
  }

  sample(start: number, end: number): void {
    this.#i = start;
    this.#end = end;
    const nameEnd = this.#name("metric");
    const family = this.#target.family(this.#b, start, nameEnd);
    const keep = family >= 0;
    this.#spaces();
    let labels = EMPTY;
    this.#labelsId = -1;
    if (this.#code() === LBRACE) labels = this.#labelSet(keep);
    this.#spaces();
    const valueStart = this.#i;
    const valueEnd = this.#token();
    this.#spaces();
    const tsStart = this.#i;
    const tsEnd = this.#token();
    this.#spaces();
    if (valueStart === valueEnd || this.#i !== this.#end) {
      throw new Error("expected a value and an optional timestamp");
    }
    const value = parseValue(this.#b, valueStart, valueEnd);
    const ts = tsStart === tsEnd ? undefined : parseTimestamp(this.#b, tsStart, tsEnd);
    if (keep) this.#target.sample(family, labels, value, ts, this.#labelsId);
  }
}

/**
 * Calls `target.sample` for every sample of a family `target.family` wants, in order; other
 * samples are only checked. Throws TextFormatError naming the bad line.
 */
export function scanExposition(body: Uint8Array, target: ScanTarget): void {
  const bytes = Buffer.isBuffer(body)
    ? body
    : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const scanner = new LineScanner(bytes, target);
  const length = bytes.length;
  let line = 0;
  for (let pos = 0; pos < length;) {
    line++;
    let end = bytes.indexOf(LF, pos);
    if (end === -1) end = length;
    const next = end + 1;
    // Trim the line's ends (spaces, tabs, a CR of CRLF).
    while (pos < end && (bytes[pos] === SPACE || bytes[pos] === TAB)) pos++;
    while (end > pos) {
      const c = bytes[end - 1];
      if (c !== SPACE && c !== TAB && c !== CR) break;
      end--;
    }
    if (pos < end && bytes[pos] !== HASH) {
      try {
        scanner.sample(pos, end);
      } catch (e) {
        if (e instanceof TextFormatError) throw e;
        throw new TextFormatError(
          `line ${String(line)}: ${e instanceof Error ? e.message : String(e)}: ${utf8(bytes, pos, Math.min(end, pos + 200))}`,
        );
      }
    }
    pos = next;
  }
}

/**
 * Calls `onSample` for every sample whose metric name `want` accepts, in order; other samples are
 * only checked. Throws TextFormatError naming the bad line.
 */
export function scanTextFormat(
  text: string | Uint8Array,
  want: (name: string) => boolean,
  onSample: (s: TextSample) => void,
): void {
  const names: string[] = [];
  const byName = new Map<string, number>();
  scanExposition(typeof text === "string" ? Buffer.from(text, "utf8") : text, {
    family(b, start, end) {
      const name = latin1(b, start, end);
      let k = byName.get(name);
      if (k === undefined) {
        k = want(name) ? names.push(name) - 1 : -1;
        byName.set(name, k);
      }
      return k;
    },
    sample(family, labels, value, timestampMs) {
      const name = names[family] ?? "";
      onSample(
        timestampMs === undefined ? { name, labels, value } : { name, labels, value, timestampMs },
      );
    },
  });
}

/** Every sample of an exposition, in order. Throws TextFormatError naming the bad line. */
export function parseTextFormat(text: string | Uint8Array): TextSample[] {
  const out: TextSample[] = [];
  scanTextFormat(
    text,
    () => true,
    (s) => out.push(s),
  );
  return out;
}
