/**
 * @module apimachinery/string-table
 * Equal strings kept as one. Lists, watch events and kubelet bodies spell the same few names
 * (namespaces, node names, phases, container names) anew for every object; a cache of 30,000 pods
 * held tens of thousands of copies of a few hundred names (issue #15). Bounded: past `max`
 * distinct strings the table starts over, so a stream of unique names cannot grow it.
 */
export class StringTable {
  readonly #seen = new Map<string, string>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** The table's copy of `s` (from now on `s` itself, if it was not there). */
  intern(s: string): string {
    const seen = this.#seen.get(s);
    if (seen !== undefined) return seen;
    if (this.#seen.size >= this.#max) this.#seen.clear();
    this.#seen.set(s, s);
    return s;
  }

  get size(): number {
    return this.#seen.size;
  }
}
