/**
 * @module providers/resource/text-format
 * A small parser of the Prometheus text exposition format (0.0.4), enough for the kubelet's
 * `/metrics/resource`: samples with labels, values (`NaN`, `+Inf`, `-Inf` included) and optional
 * millisecond timestamps. `# HELP` / `# TYPE` and other comments are skipped.
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

const NAME_START = /[a-zA-Z_:]/;
const NAME_CHAR = /[a-zA-Z0-9_:]/;

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
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    throw new Error(`invalid value ${JSON.stringify(text)}`);
  }
  return Number(text);
}

class LineParser {
  readonly #s: string;
  #i = 0;

  constructor(s: string) {
    this.#s = s;
  }

  #peek(): string {
    return this.#s[this.#i] ?? "";
  }

  #spaces(): void {
    while (this.#peek() === " " || this.#peek() === "\t") this.#i++;
  }

  #name(what: string): string {
    const start = this.#i;
    if (!NAME_START.test(this.#peek())) throw new Error(`expected a ${what} name`);
    this.#i++;
    while (NAME_CHAR.test(this.#peek())) this.#i++;
    return this.#s.slice(start, this.#i);
  }

  #quoted(): string {
    if (this.#peek() !== '"') throw new Error('expected " to start a label value');
    this.#i++;
    let out = "";
    for (;;) {
      const ch = this.#s[this.#i++];
      if (ch === undefined) throw new Error("unterminated label value");
      if (ch === '"') return out;
      if (ch !== "\\") {
        out += ch;
        continue;
      }
      const esc = this.#s[this.#i++];
      if (esc === "n") out += "\n";
      else if (esc === "\\" || esc === '"') out += esc;
      else throw new Error(`invalid escape \\${esc ?? ""} in label value`);
    }
  }

  #labels(): Record<string, string> {
    const labels: Record<string, string> = {};
    if (this.#peek() !== "{") return labels;
    this.#i++;
    for (;;) {
      this.#spaces();
      if (this.#peek() === "}") break;
      const name = this.#name("label");
      this.#spaces();
      if (this.#peek() !== "=") throw new Error(`expected = after label ${name}`);
      this.#i++;
      this.#spaces();
      if (Object.hasOwn(labels, name)) throw new Error(`duplicate label ${name}`);
      labels[name] = this.#quoted();
      this.#spaces();
      if (this.#peek() === ",") {
        this.#i++;
        continue;
      }
      if (this.#peek() !== "}") throw new Error("expected , or } after a label value");
      break;
    }
    this.#i++;
    return labels;
  }

  sample(): TextSample {
    const name = this.#name("metric");
    this.#spaces();
    const labels = this.#labels();
    const rest = this.#s
      .slice(this.#i)
      .trim()
      .split(/[ \t]+/);
    if (rest.length < 1 || rest.length > 2 || rest[0] === "") {
      throw new Error("expected a value and an optional timestamp");
    }
    const value = parseValue(rest[0] ?? "");
    const ts = rest[1];
    if (ts === undefined) return { name, labels, value };
    if (!/^-?\d+$/.test(ts)) throw new Error(`invalid timestamp ${JSON.stringify(ts)}`);
    return { name, labels, value, timestampMs: Number(ts) };
  }
}

/** Every sample of an exposition, in order. Throws TextFormatError naming the bad line. */
export function parseTextFormat(text: string): TextSample[] {
  const out: TextSample[] = [];
  const lines = text.split("\n");
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    try {
      out.push(new LineParser(line).sample());
    } catch (e) {
      throw new TextFormatError(
        `line ${String(i + 1)}: ${e instanceof Error ? e.message : String(e)}: ${line.slice(0, 200)}`,
      );
    }
  });
  return out;
}
