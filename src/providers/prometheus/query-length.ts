/**
 * @module providers/prometheus/query-length
 * How long a grouped query will be, without rendering it per request: query grouping cuts a batch
 * where the next request would take it past `--prometheus-max-query-length` (query-grouping.ts).
 */
import { escapeRegex, quoteString } from "../../promql/escape.ts";
import { groupedQuery, type GroupableShape } from "./query-shape.ts";

/** Sorted and without repeats, so a grouped query's text does not depend on arrival order. */
export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export const bytes = (s: string): number => Buffer.byteLength(s, "utf8");

/**
 * An upper bound on the length of {@link groupedQuery}'s output for a set of namespaces and names,
 * kept up to date as values are added, so a batch is cut without rendering it again per request.
 * The query is the shape's text with both matchers filled in, and each value adds its escaped,
 * quoted text plus a `|` (Go quoting and regex escaping work character by character). Exact from
 * two values on; a single value renders as `="v"` without regex escapes, which is shorter.
 */
export class LengthBound {
  readonly #empty: number;
  readonly #namespaced: boolean;
  readonly #names = new Set<string>();
  readonly #namespaces = new Set<string>();
  #nameBytes = 0;
  #namespaceBytes = 0;

  constructor(shape: GroupableShape) {
    this.#empty = bytes(groupedQuery(shape, [], []));
    this.#namespaced = shape.namespaceLabel !== undefined && shape.namespaceMatcher !== undefined;
  }

  /** What one value adds to its matcher: its escaped text, quoted (less the quotes), and a `|`. */
  static #cost(value: string): number {
    return bytes(quoteString(escapeRegex(value))) - 1;
  }

  #total(nameBytes: number, names: number, namespaceBytes: number, namespaces: number): number {
    return (
      this.#empty +
      (names > 0 ? nameBytes - 1 : 0) +
      (this.#namespaced && namespaces > 0 ? namespaceBytes - 1 : 0)
    );
  }

  /** The bound once `names` of `namespace` are added too. */
  with(namespace: string, names: readonly string[]): number {
    let nameBytes = this.#nameBytes;
    let count = this.#names.size;
    const seen = new Set<string>();
    for (const n of names) {
      if (this.#names.has(n) || seen.has(n)) continue;
      seen.add(n);
      nameBytes += LengthBound.#cost(n);
      count++;
    }
    const newNamespace = !this.#namespaces.has(namespace);
    return this.#total(
      nameBytes,
      count,
      this.#namespaceBytes + (newNamespace ? LengthBound.#cost(namespace) : 0),
      this.#namespaces.size + (newNamespace ? 1 : 0),
    );
  }

  clear(): void {
    this.#names.clear();
    this.#namespaces.clear();
    this.#nameBytes = 0;
    this.#namespaceBytes = 0;
  }

  add(namespace: string, names: readonly string[]): void {
    for (const n of names) {
      if (this.#names.has(n)) continue;
      this.#names.add(n);
      this.#nameBytes += LengthBound.#cost(n);
    }
    if (!this.#namespaces.has(namespace)) {
      this.#namespaces.add(namespace);
      this.#namespaceBytes += LengthBound.#cost(namespace);
    }
  }
}
