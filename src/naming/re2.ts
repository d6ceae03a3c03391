/**
 * @module naming/re2
 * Compiles an RE2 (Go regexp) pattern into a JavaScript RegExp with the same meaning, so config
 * regexes behave as they did in prometheus-adapter. The pattern is translated token by token:
 * Go-only syntax (`(?P<name>`, `\A`, `\z`, `\Q…\E`, `[[:alpha:]]`, `\pL`, scoped `(?s:…)`) is
 * rewritten, and Perl/JS-only syntax that RE2 rejects (lookaround, backreferences) is refused
 * with a reason and a hint, so a config that loads here also loads upstream. Escapes and
 * character classes are read by re2-reader.ts.
 */
import { Re2Reader, literal } from "./re2-reader.ts";

/** A compiled pattern plus the group facts Go exposes (`NumSubexp`, `SubexpNames`). */
export interface Re2Regex {
  /** The pattern as written in the config (RE2 syntax). */
  readonly source: string;
  /** Equivalent JavaScript regex: flags `u` (runes, like Go), `d` (indices), maybe `i`. */
  readonly regex: RegExp;
  /** Number of capture groups, named or not (Go `NumSubexp`). */
  readonly groupCount: number;
  /** Name of each group by index; index 0 (the whole match) and unnamed groups are "". */
  readonly groupNames: readonly string[];
}

interface Scope {
  dotAll: boolean;
  multiLine: boolean;
}

const GO_FLAGS = /^\(\?([imsU]*)(?:-([imsU]*))?([:)])/;
const REPEAT = /^\{(\d+)(,(\d*))?\}/;
const MAX_REPEAT = 1000;

class Translator extends Re2Reader {
  private out = "";
  private groups = 0;
  private readonly names: string[] = [""];
  private ignoreCase = false;
  private readonly scopes: Scope[] = [{ dotAll: false, multiLine: false }];
  /** Whether the last emitted token can take a repetition operator. */
  private atom = false;

  private get scope(): Scope {
    const s = this.scopes[this.scopes.length - 1];
    if (s === undefined) this.fail("unexpected )", "remove the unmatched closing parenthesis");
    return s;
  }

  run(): Re2Regex {
    while (this.i < this.p.length) this.token();
    if (this.scopes.length !== 1) this.fail("missing closing )", "balance the parentheses");
    let regex: RegExp;
    try {
      regex = new RegExp(this.out, this.ignoreCase ? "dui" : "du");
    } catch (e) {
      const msg =
        e instanceof Error
          ? e.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, "")
          : String(e);
      this.fail(msg.charAt(0).toLowerCase() + msg.slice(1), "fix the pattern (RE2 syntax)");
    }
    return { source: this.p, regex, groupCount: this.groups, groupNames: this.names };
  }

  private token(): void {
    const c = this.nextChar();
    switch (c) {
      case "\\":
        this.out += this.escape(false);
        this.atom = true;
        return;
      case "[":
        this.out += this.charClass();
        this.atom = true;
        return;
      case "(":
        this.group();
        return;
      case ")":
        if (this.scopes.length <= 1) this.fail("unexpected )", "remove the unmatched parenthesis");
        this.scopes.pop();
        this.out += ")";
        this.atom = true;
        return;
      case ".":
        // Go's `.` excludes only \n; JavaScript's also excludes \r, U+2028 and U+2029.
        this.out += this.scope.dotAll ? "[^]" : "[^\\n]";
        this.atom = true;
        return;
      case "^":
        this.out += this.scope.multiLine ? "(?<![^\\n])" : "^";
        this.atom = false;
        return;
      case "$":
        this.out += this.scope.multiLine ? "(?![^\\n])" : "$";
        this.atom = false;
        return;
      case "|":
        this.out += "|";
        this.atom = false;
        return;
      case "*":
      case "+":
      case "?":
        this.repeatOp(c);
        return;
      case "{": {
        const m = REPEAT.exec(this.p.slice(this.i - 1));
        if (m === null) {
          // Go reads a `{` that does not start a valid repeat as a literal.
          this.out += "\\{";
          this.atom = true;
          return;
        }
        const min = Number(m[1]);
        const max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
        if (min > MAX_REPEAT || (max !== Infinity && (max > MAX_REPEAT || max < min))) {
          this.fail(
            `invalid repeat count ${m[0]}`,
            `use counts from 0 to ${MAX_REPEAT}, min ≤ max`,
          );
        }
        this.i += m[0].length - 1;
        this.repeatOp(m[0]);
        return;
      }
      default:
        this.out += literal(c);
        this.atom = true;
    }
  }

  private repeatOp(op: string): void {
    if (!this.atom) {
      this.fail(`missing argument to repetition operator ${op}`, "put something before it");
    }
    this.out += op;
    if (this.p[this.i] === "?") {
      this.i++;
      this.out += "?";
    }
    const next = this.p[this.i];
    if (next === "*" || next === "+" || next === "?" || REPEAT.test(this.rest())) {
      this.fail(
        `invalid nested repetition operator ${op}${next ?? ""}`,
        "RE2 has no possessive quantifiers; use a single operator or wrap in (?:…)",
      );
    }
    this.atom = false;
  }

  private group(): void {
    const rest = this.p.slice(this.i - 1);
    const parent = this.scope;
    if (!rest.startsWith("(?")) {
      this.groups++;
      this.names.push("");
      this.scopes.push({ ...parent });
      this.out += "(";
      this.atom = false;
      return;
    }
    const named = /^\(\?P?<([^>]*)>/.exec(rest);
    if (named !== null && !rest.startsWith("(?<=") && !rest.startsWith("(?<!")) {
      const name = named[1] ?? "";
      if (!/^[A-Za-z0-9_]+$/.test(name)) {
        this.fail(`invalid capture group name "${name}"`, "use letters, digits and _ only");
      }
      if (/^[0-9]/.test(name)) {
        this.fail(
          `capture group name "${name}" starts with a digit`,
          "start the name with a letter or _ (JavaScript cannot use it otherwise)",
        );
      }
      if (this.names.includes(name)) {
        this.fail(`duplicate capture group name "${name}"`, "give each group its own name");
      }
      this.groups++;
      this.names.push(name);
      this.scopes.push({ ...parent });
      this.out += `(?<${name}>`;
      this.i += named[0].length - 1;
      this.atom = false;
      return;
    }
    if (rest.startsWith("(?=") || rest.startsWith("(?!")) {
      this.fail(
        "lookahead (?= or (?! is not supported by RE2",
        "rewrite without lookaround; to exclude names use seriesFilters with isNot",
      );
    }
    if (rest.startsWith("(?<=") || rest.startsWith("(?<!")) {
      this.fail(
        "lookbehind (?<= or (?<! is not supported by RE2",
        "rewrite without lookaround; to exclude names use seriesFilters with isNot",
      );
    }
    if (rest.startsWith("(?P=") || rest.startsWith("(?P>")) {
      this.fail("backreferences are not supported by RE2", "rewrite without backreferences");
    }
    if (rest.startsWith("(?>")) {
      this.fail("atomic groups (?> are not supported by RE2", "use a plain group (?:…)");
    }
    if (rest.startsWith("(?#")) {
      this.fail("comments (?# are not supported by RE2", "remove the comment");
    }
    const flags = GO_FLAGS.exec(rest);
    const on = flags?.[1] ?? "";
    const off = flags?.[2] ?? "";
    // Go accepts `(?)` and `(?:`, but not a `-` with no flag after it.
    if (flags === null || (flags[2] !== undefined && off === "")) {
      this.fail(`invalid or unsupported group syntax ${rest.slice(0, 4)}`, "check the RE2 syntax");
    }
    const scoped = flags[3] === ":";
    if (on.includes("U") || off.includes("U")) {
      this.fail(
        "the U (ungreedy) flag is not supported here",
        "use lazy operators like *? instead",
      );
    }
    if (on.includes("i") || off.includes("i")) {
      // JavaScript on Node 20 has no scoped case-insensitivity; only a leading (?i) maps to a flag.
      if (scoped || this.out !== "" || off.includes("i")) {
        this.fail(
          "the i flag is only supported as a leading (?i)",
          "move (?i) to the very start of the pattern",
        );
      }
      this.ignoreCase = true;
    }
    const next: Scope = { ...parent };
    if (on.includes("s")) next.dotAll = true;
    if (off.includes("s")) next.dotAll = false;
    if (on.includes("m")) next.multiLine = true;
    if (off.includes("m")) next.multiLine = false;
    this.i += flags[0].length - 1;
    if (scoped) {
      this.scopes.push(next);
      this.out += "(?:";
      this.atom = false;
    } else {
      // (?flags) changes the rest of the enclosing group.
      parent.dotAll = next.dotAll;
      parent.multiLine = next.multiLine;
    }
  }
}

/** Compiles an RE2 pattern; throws {@link Re2SyntaxError} with a reason and a hint. */
export function compileRe2(pattern: string): Re2Regex {
  return new Translator(pattern).run();
}

/**
 * Go `FindStringSubmatchIndex`: the leftmost match and each group's [start, end), or undefined
 * for groups that did not take part. Returns undefined when nothing matches.
 */
export function findSubmatchIndex(
  re: Re2Regex,
  text: string,
): (readonly [number, number] | undefined)[] | undefined {
  re.regex.lastIndex = 0;
  const m = re.regex.exec(text);
  if (m === null) return undefined;
  const indices = m.indices;
  if (indices === undefined) return undefined;
  return Array.from({ length: re.groupCount + 1 }, (_, k) => indices[k]);
}

/** Go `MatchString`: unanchored search. */
export function re2Matches(re: Re2Regex, text: string): boolean {
  re.regex.lastIndex = 0;
  return re.regex.test(text);
}
