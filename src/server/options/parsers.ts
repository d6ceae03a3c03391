/**
 * @module server/options/parsers
 * Flag value parsers shared by the option groups of `serve`, with Go's (pflag's) spellings: a
 * value commander cannot take is refused with its own "argument … is invalid" line.
 */
import { InvalidArgumentError } from "@commander-js/extra-typings";
import { parseGoDuration } from "../../apimachinery/go-duration.ts";

/** A Go duration (`10s`, `1m30s`) in milliseconds. */
export function duration(v: string): number {
  try {
    return parseGoDuration(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

export function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError("expected a port number");
  return n;
}

export function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError("expected a non-negative integer");
  }
  return n;
}

/**
 * `--http2-max-streams-per-connection`: an int as in Go; zero or negative means the default (the
 * generic apiserver only uses values above 0), HTTP/2 allows at most 2^32-1.
 */
export function http2Streams(v: string): number {
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n > 0xffff_ffff) {
    throw new InvalidArgumentError("expected an integer up to 4294967295");
  }
  return Math.max(n, 0);
}

/** A Go-style boolean flag value: `--flag=false` as well as `--flag` / `--no-flag`. */
export function bool(v: string): boolean {
  if (["true", "1", "t", "T", "TRUE", "True"].includes(v)) return true;
  if (["false", "0", "f", "F", "FALSE", "False"].includes(v)) return false;
  throw new InvalidArgumentError("expected true or false");
}

/** The lists {@link list} made, so that a repeated flag can tell them from its default. */
const given = new WeakSet<readonly string[]>();

/**
 * A comma-separated list; empty items dropped, as pflag's StringSlice: the flag's first use
 * replaces the default, each further use appends (`--x=a,b --x=c` is a, b, c).
 */
export function list(v: string, previous?: readonly string[]): string[] {
  const items = v.split(",").filter((x) => x !== "");
  const out = previous !== undefined && given.has(previous) ? [...previous, ...items] : items;
  given.add(out);
  return out;
}

/** A repeatable `NAME=VALUE` flag, collected into one record. */
export function header(v: string, prev: Record<string, string>): Record<string, string> {
  const eq = v.indexOf("=");
  if (eq <= 0) throw new InvalidArgumentError(`expected NAME=VALUE, got ${JSON.stringify(v)}`);
  return { ...prev, [v.slice(0, eq)]: v.slice(eq + 1) };
}

/** `NAMESPACE/NAME` of a namespaced object (both DNS labels, the name may hold dots). */
export function namespacedName(v: string): { namespace: string; name: string } {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(v);
  if (!m) throw new InvalidArgumentError("expected NAMESPACE/NAME");
  return { namespace: m[1] ?? "", name: m[3] ?? "" };
}
