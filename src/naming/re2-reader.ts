/**
 * @module naming/re2-reader
 * Reading an RE2 pattern for naming/re2.ts: the cursor, escapes (`\x{…}`, octal, `\pL`,
 * `\Q…\E`, Go's ASCII `\s`) and bracketed character classes with POSIX classes, each translated
 * to the JavaScript `u`-mode text with the same meaning. Groups, flags and repetition are the
 * translator's, in re2.ts.
 */
import { Re2SyntaxError } from "./re2-error.ts";

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

// Go's \s is ASCII-only; JavaScript's also matches Unicode spaces and \v.
const GO_SPACE = "\\t\\n\\f\\r ";
const JS_SYNTAX = new Set("^$\\.*+?()[]{}|/".split(""));

function isAlnum(c: string): boolean {
  return /^[0-9A-Za-z]$/.test(c);
}

/**
 * A literal code point, escaped when JavaScript's `u` mode would read it as syntax. `u` mode
 * rejects escapes of anything else (`\\-` is allowed only inside a class).
 */
export function literal(c: string, inClass = false): string {
  if (c === "-") return inClass ? "\\-" : "-";
  return JS_SYNTAX.has(c) ? `\\${c}` : c;
}

function codePoint(hex: string): string {
  return `\\u{${hex}}`;
}

/** A pattern and the position read up to; fails with {@link Re2SyntaxError}. */
export class Re2Reader {
  protected readonly p: string;
  protected i = 0;

  constructor(pattern: string) {
    this.p = pattern;
  }

  fail(reason: string, hint: string): never {
    throw new Re2SyntaxError(this.p, reason, hint);
  }

  protected rest(): string {
    return this.p.slice(this.i);
  }

  protected nextChar(): string {
    const cp = this.p.codePointAt(this.i);
    if (cp === undefined) return "";
    const c = String.fromCodePoint(cp);
    this.i += c.length;
    return c;
  }

  /** Translates the escape after a backslash; `inClass` limits it to class-safe forms. */
  protected escape(inClass: boolean): string {
    const c = this.nextChar();
    if (c === "") this.fail("trailing backslash at end of expression", "remove or double it");
    if (/[1-7]/.test(c) && /^[0-7]/.test(this.rest())) return this.octal(c);
    switch (c) {
      case "0":
        return this.octal(c);
      case "1":
      case "2":
      case "3":
      case "4":
      case "5":
      case "6":
      case "7":
      case "8":
      case "9":
      case "k":
        return this.fail(`backreference \\${c} is not supported by RE2`, "rewrite without it");
      case "A":
        if (inClass) break;
        return "(?<![^])";
      case "z":
        if (inClass) break;
        return "(?![^])";
      case "b":
      case "B":
        if (inClass) break;
        return `\\${c}`;
      case "d":
      case "D":
      case "w":
      case "W":
        return `\\${c}`;
      case "s":
        return inClass ? GO_SPACE : `[${GO_SPACE}]`;
      case "S":
        return inClass ? "\\S" : `[^${GO_SPACE}]`;
      case "a":
        return "\\x07";
      case "f":
      case "t":
      case "n":
      case "r":
      case "v":
        return `\\${c}`;
      case "x":
        return this.hex();
      case "p":
      case "P":
        return this.unicodeClass(c === "P");
      case "Q":
        if (inClass) break;
        return this.quoted();
      case "C":
        return this.fail("\\C (any byte) is not supported", "use . instead");
      default:
        if (!isAlnum(c)) return literal(c, inClass);
    }
    return this.fail(`invalid escape sequence \\${c}`, "escape only punctuation, or use a class");
  }

  private octal(first: string): string {
    let digits = first;
    while (digits.length < 3 && /^[0-7]/.test(this.rest())) digits += this.nextChar();
    return codePoint(parseInt(digits, 8).toString(16));
  }

  private hex(): string {
    const rest = this.rest();
    const braced = /^\{([0-9A-Fa-f]+)\}/.exec(rest);
    if (braced?.[1] !== undefined && parseInt(braced[1], 16) <= 0x10ffff) {
      this.i += braced[0].length;
      return codePoint(braced[1]);
    }
    const two = /^[0-9A-Fa-f]{2}/.exec(rest);
    if (two !== null) {
      this.i += 2;
      return codePoint(two[0]);
    }
    return this.fail("invalid escape sequence \\x", "write \\x41 or \\x{263a}");
  }

  private unicodeClass(negated: boolean): string {
    const rest = this.rest();
    const m = /^(?:\{(\^?)([A-Za-z_]+)\}|([A-Za-z]))/.exec(rest);
    if (m === null)
      return this.fail("invalid character class range \\p", "write \\pL or \\p{Greek}");
    this.i += m[0].length;
    const neg = negated !== (m[1] === "^");
    const name = m[2] ?? m[3] ?? "";
    if (name === "Any") return neg ? "[^\\s\\S]" : "[\\s\\S]";
    // One- and two-letter names are general categories; longer ones are scripts in Go.
    const prop = name.length <= 2 ? name : `Script=${name}`;
    try {
      new RegExp(`\\p{${prop}}`, "u");
    } catch {
      return this.fail(`unknown Unicode class ${name}`, "use a Unicode category or script name");
    }
    return `\\${neg ? "P" : "p"}{${prop}}`;
  }

  private quoted(): string {
    const end = this.p.indexOf("\\E", this.i);
    const text = end < 0 ? this.p.slice(this.i) : this.p.slice(this.i, end);
    this.i = end < 0 ? this.p.length : end + 2;
    return Array.from(text, (c) => literal(c)).join("");
  }

  protected charClass(): string {
    let body = "";
    let negated = false;
    if (this.p[this.i] === "^") {
      negated = true;
      this.i++;
    }
    let first = true;
    for (;;) {
      if (this.i >= this.p.length) {
        this.fail("missing closing ] in character class", "close the class with ]");
      }
      const rest = this.rest();
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(rest);
      if (posix !== null) {
        const ranges = POSIX_CLASSES[posix[2] ?? ""];
        if (ranges === undefined) {
          this.fail(`invalid character class range ${posix[0]}`, "use a known POSIX class");
        }
        if (posix[1] === "^") {
          this.fail(`negated POSIX class ${posix[0]} is not supported here`, "use [^…] instead");
        }
        body += ranges;
        this.i += posix[0].length;
        first = false;
        continue;
      }
      const c = this.nextChar();
      if (c === "]" && !first) break;
      first = false;
      if (c === "\\") body += this.escape(true);
      else if (c === "-") body += "-";
      else body += literal(c, true);
    }
    return `[${negated ? "^" : ""}${body}]`;
  }
}
