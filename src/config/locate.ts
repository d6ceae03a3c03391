/**
 * @module config/locate
 * Maps a path into the parsed config (as zod reports it: `["rules", 0, "name"]`) back to where it
 * is written in the YAML, following aliases and `<<` merge keys, so every error can say
 * `file:line:col`.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node, type Pair } from "yaml";

export interface Location {
  /** Offset of the value at the path, or of the nearest ancestor found. */
  readonly offset: number;
  /** Offset of the key naming the last path segment, when that key exists. */
  readonly keyOffset: number | undefined;
  /** Whether the whole path was found (false: the location is an ancestor's). */
  readonly exact: boolean;
}

function deref(doc: Document, node: unknown): unknown {
  let n = node;
  for (let hops = 0; isAlias(n) && hops < 100; hops++) n = n.resolve(doc);
  return n;
}

/** The text of a mapping key as the config sees it (scalars only). */
export function keyText(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  if (typeof key.value === "symbol") return undefined;
  return key.source ?? String(key.value);
}

function isMergePair(pair: Pair): boolean {
  return isScalar(pair.key) && typeof pair.key.value === "symbol";
}

function findPair(doc: Document, map: unknown, key: string, depth = 0): Pair | undefined {
  if (!isMap(map) || depth > 20) return undefined;
  for (const pair of map.items) {
    if (keyText(pair.key) === key) return pair;
  }
  // Keys written directly win over merged ones, as in YAML merge semantics.
  for (const pair of map.items) {
    if (!isMergePair(pair)) continue;
    const source = deref(doc, pair.value);
    const sources = isSeq(source) ? source.items.map((s) => deref(doc, s)) : [source];
    for (const s of sources) {
      const found = findPair(doc, s, key, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function start(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}

/** Where the value at `path` is written. */
export function locate(doc: Document, path: readonly PropertyKey[]): Location {
  let node: unknown = deref(doc, doc.contents);
  let offset = start(node) ?? 0;
  let keyOffset: number | undefined;
  for (const seg of path) {
    keyOffset = undefined;
    let next: unknown;
    if (typeof seg === "number" && isSeq(node)) {
      next = node.items[seg];
    } else if (isMap(node)) {
      const pair = findPair(doc, node, String(seg));
      if (pair !== undefined) {
        keyOffset = start(pair.key);
        next = pair.value ?? undefined;
        if (next === undefined || next === null) {
          return { offset: keyOffset ?? offset, keyOffset, exact: true };
        }
      }
    }
    if (next === undefined || isPair(next)) return { offset, keyOffset, exact: false };
    node = deref(doc, next);
    offset = start(next) ?? offset;
  }
  return { offset, keyOffset, exact: true };
}
