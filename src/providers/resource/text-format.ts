/**
 * @module providers/resource/text-format
 * A small parser of the Prometheus text exposition format (0.0.4), enough for the kubelet's
 * `/metrics/resource`: samples with labels, values (`NaN`, `+Inf`, `-Inf` included) and optional
 * millisecond timestamps. `# HELP` / `# TYPE` and other comments are skipped.
 *
 * It runs every scrape round over every kubelet (about 30 KB per node), so it scans the text in
 * place by character code, and builds names, labels and samples only for the metrics the caller
 * wants; other lines are still checked for syntax, as metrics-server's parser fails a scrape on any
 * malformed line.
 */

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

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const HASH = 0x23;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const COMMA = 0x2c;
const EQUALS = 0x3d;

function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39);
}

const VALUE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TIMESTAMP = /^-?\d+$/;

function parseValue(text: string): number {
  switch (text) {
    case "NaN":
      return NaN;
    case "+Inf":
    case "Inf":
      return Infinity;
    case "-Inf":
      return -Infinity;
  }
  if (!VALUE.test(text)) throw new Error(`invalid value ${JSON.stringify(text)}`);
  return Number(text);
}

/** Scans lines of one text; {@link line} points it at `s[start, end)`, which starts at a name. */
class LineScanner {
  readonly #s: string;
  #end = 0;
  #i = 0;

  constructor(s: string) {
    this.#s = s;
  }

  line(start: number, end: number): this {
    this.#i = start;
    this.#end = end;
    return this;
  }

  #code(): number {
    return this.#i < this.#end ? this.#s.charCodeAt(this.#i) : -1;
  }

  #spaces(): void {
    for (let c = this.#code(); c === SPACE || c === TAB; c = this.#code()) this.#i++;
  }

  #name(what: string): string {
    const start = this.#i;
    if (!isNameStart(this.#code())) throw new Error(`expected a ${what} name`);
    this.#i++;
    while (isNameChar(this.#code())) this.#i++;
    return this.#s.slice(start, this.#i);
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
        const e = this.#s[this.#i + 1];
        if (e !== "n" && e !== "\\" && e !== '"') {
          throw new Error(`invalid escape \\${e ?? ""} in label value`);
        }
        escaped = true;
        this.#i += 2;
      } else this.#i++;
    }
    const raw = this.#s.slice(start, this.#i++);
    if (!keep || !escaped) return raw;
    return raw.replace(/\\(.)/g, (_, e: string) => (e === "n" ? "\n" : e));
  }

  /** The label set; undefined when not `keep` (then only checked). */
  #labels(keep: boolean): Record<string, string> | undefined {
    const labels: Record<string, string> | undefined = keep ? {} : undefined;
    if (this.#code() !== LBRACE) return labels;
    this.#i++;
    for (;;) {
      this.#spaces();
      if (this.#code() === RBRACE) break;
      const name = this.#name("label");
      this.#spaces();
      if (this.#code() !== EQUALS) throw new Error(`expected = after label ${name}`);
      this.#i++;
      this.#spaces();
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
    return labels;
  }

  /** The next whitespace-separated token, or "" at the end of the line. */
  #token(): string {
    this.#spaces();
    const start = this.#i;
    for (let c = this.#code(); c !== -1 && c !== SPACE && c !== TAB; c = this.#code()) this.#i++;
    return this.#s.slice(start, this.#i);
  }

  sample(want: (name: string) => boolean): TextSample | undefined {
    const name = this.#name("metric");
    const keep = want(name);
    this.#spaces();
    const labels = this.#labels(keep);
    const valueText = this.#token();
    const ts = this.#token();
    if (valueText === "" || this.#token() !== "") {
      throw new Error("expected a value and an optional timestamp");
    }
    const value = parseValue(valueText);
    if (ts !== "" && !TIMESTAMP.test(ts)) {
      throw new Error(`invalid timestamp ${JSON.stringify(ts)}`);
    }
    if (!labels) return undefined;
    return ts === "" ? { name, labels, value } : { name, labels, value, timestampMs: Number(ts) };
  }
}

/**
 * Calls `onSample` for every sample whose metric name `want` accepts, in order; other samples are
 * only checked. Throws TextFormatError naming the bad line.
 */
export function scanTextFormat(
  text: string,
  want: (name: string) => boolean,
  onSample: (s: TextSample) => void,
): void {
  const scanner = new LineScanner(text);
  let line = 0;
  for (let pos = 0; pos < text.length;) {
    line++;
    let end = text.indexOf("\n", pos);
    if (end === -1) end = text.length;
    const next = end + 1;
    // Trim the line's ends (spaces, tabs, a CR of CRLF).
    while (pos < end && (text.charCodeAt(pos) === SPACE || text.charCodeAt(pos) === TAB)) pos++;
    while (end > pos) {
      const c = text.charCodeAt(end - 1);
      if (c !== SPACE && c !== TAB && c !== CR) break;
      end--;
    }
    if (pos < end && text.charCodeAt(pos) !== HASH) {
      let s: TextSample | undefined;
      try {
        s = scanner.line(pos, end).sample(want);
      } catch (e) {
        throw new TextFormatError(
          `line ${String(line)}: ${e instanceof Error ? e.message : String(e)}: ${text.slice(pos, Math.min(end, pos + 200))}`,
        );
      }
      if (s) onSample(s);
    }
    pos = next;
  }
}

/** Every sample of an exposition, in order. Throws TextFormatError naming the bad line. */
export function parseTextFormat(text: string): TextSample[] {
  const out: TextSample[] = [];
  scanTextFormat(
    text,
    () => true,
    (s) => out.push(s),
  );
  return out;
}
