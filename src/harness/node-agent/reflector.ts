/**
 * @module harness/node-agent/reflector
 * A cache of one resource kept by list-then-watch, as client-go's reflector keeps an informer's
 * store: list, watch from the list's resourceVersion, resume the watch from the last
 * resourceVersion seen when the connection ends (at once when the server closed it, after a
 * capped back-off on an error), and list again when the server answers 410 Gone (or any other
 * watch error event).
 */

/** What the reflector needs of an object. */
export interface Meta {
  readonly metadata?: {
    readonly namespace?: string;
    readonly name?: string;
    readonly resourceVersion?: string;
  };
}

export interface ListResult<T> {
  readonly items: readonly T[];
  readonly metadata?: { readonly resourceVersion?: string };
}

/** A running watch; `done` is called once, with the error if it ended with one. */
export type WatchFn = (
  resourceVersion: string,
  onEvent: (type: string, object: unknown) => void,
  done: (err: unknown) => void,
) => Promise<{ abort(): void }>;

export interface ReflectorOptions<T extends Meta> {
  /** For logs: the resource, e.g. `pods`. */
  readonly resource: string;
  readonly list: () => Promise<ListResult<T>>;
  readonly watch: WatchFn;
  /** A watch event's object as the list returns it (dates as Date). */
  readonly decode: (raw: unknown) => T;
  /** Called after the store changed (a list, or an added, modified or deleted object). */
  readonly onChange: () => void;
  readonly log: (msg: string, fields?: Record<string, unknown>) => void;
  /** The wait before the n-th retry after an error (from 0). */
  readonly backoffMs?: (attempt: number) => number;
}

/** `namespace/name`, as client-go's MetaNamespaceKeyFunc (`name` for cluster-scoped objects). */
export function objectKey(o: Meta): string {
  const ns = o.metadata?.namespace ?? "";
  const name = o.metadata?.name ?? "";
  return ns === "" ? name : `${ns}/${name}`;
}

/**
 * 250 ms doubling to 5 s: client-go's reflector backs off to 30 s, but this node's only API server
 * is on loopback, and after it restarts the pods must be synced again within seconds, as the
 * 1 s LIST the watch replaced did.
 */
const defaultBackoff = (attempt: number): number =>
  Math.min(5000, 250 * 2 ** Math.min(attempt, 10));

/** A watch ERROR event's code (a metav1.Status), if any. */
function statusCode(o: unknown): number | undefined {
  if (typeof o !== "object" || o === null) return undefined;
  const code = (o as { code?: unknown }).code;
  return typeof code === "number" ? code : undefined;
}

function errText(err: unknown): string {
  return String(err);
}

function errorStatusCode(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as { statusCode?: unknown; code?: unknown };
  if (typeof e.statusCode === "number") return e.statusCode;
  return typeof e.code === "number" ? e.code : undefined;
}

export class Reflector<T extends Meta> {
  readonly #o: ReflectorOptions<T>;
  #store = new Map<string, T>();
  #resourceVersion = "";
  #synced = false;
  #stopped = false;
  #failures = 0;
  #watch: { abort(): void } | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Lists and watches; `first` settles after the first list, whether it worked or not. */
  #first: Promise<void> | undefined;

  constructor(o: ReflectorOptions<T>) {
    this.#o = o;
  }

  /** Starts; resolves once the first list has been tried (see {@link synced}). */
  start(): Promise<void> {
    this.#first ??= this.#run();
    return this.#first;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#watch?.abort();
    this.#watch = undefined;
  }

  /** Read through a call: it changes while a list or a watch is awaited. */
  #isStopped(): boolean {
    return this.#stopped;
  }

  /** Whether a list has succeeded: until then the store says nothing. */
  get synced(): boolean {
    return this.#synced;
  }

  /** The resourceVersion the next watch starts from ("" when the next step is a list). */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  /** Every object, in key order (the API server's order: etcd's, by namespace then name). */
  list(): T[] {
    return [...this.#store.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => o);
  }

  #retry(resetFailures: boolean): void {
    if (this.#stopped) return;
    if (resetFailures) this.#failures = 0;
    const delay = resetFailures ? 0 : (this.#o.backoffMs ?? defaultBackoff)(this.#failures++);
    this.#timer = setTimeout(() => {
      void this.#run();
    }, delay);
  }

  async #run(): Promise<void> {
    if (this.#stopped) return;
    if (this.#resourceVersion === "") {
      try {
        const list = await this.#o.list();
        if (this.#isStopped()) return;
        this.#store = new Map(list.items.map((o) => [objectKey(o), o]));
        this.#resourceVersion = list.metadata?.resourceVersion ?? "";
        this.#synced = true;
        this.#o.onChange();
      } catch (e) {
        this.#o.log("list failed", { resource: this.#o.resource, err: String(e) });
        this.#retry(false);
        return;
      }
    }
    let ended = false;
    const isEnded = () => ended;
    let sawEvent = false;
    const startedAt = Date.now();
    /** Ends this watch once; `backoff`: wait before the next step, else take it at once. */
    const end = (backoff: boolean) => {
      if (ended) return;
      ended = true;
      this.#watch?.abort();
      this.#watch = undefined;
      this.#retry(!backoff);
    };
    const done = (err: unknown) => {
      if (ended || this.#stopped) return;
      if (err) {
        if (errorStatusCode(err) === 410) this.#resourceVersion = "";
        this.#o.log("watch failed", { resource: this.#o.resource, err: errText(err) });
        // A watch that delivered events worked: resume at once; else back off.
        end(!sawEvent && errorStatusCode(err) !== 410);
        return;
      }
      // The server ended it (its timeout): resume from the last resourceVersion, at once unless it
      // ended at once with nothing (a server shutting down).
      end(!sawEvent && Date.now() - startedAt < 1000);
    };
    const onEvent = (type: string, raw: unknown) => {
      if (ended || this.#stopped) return;
      sawEvent = true;
      if (type === "ERROR") {
        // 410 Gone (the resourceVersion is too old): list again at once; another error: after
        // a back-off.
        const code = statusCode(raw);
        this.#o.log("watch error event; listing again", { resource: this.#o.resource, code });
        this.#resourceVersion = "";
        end(code !== 410);
        return;
      }
      const rv = (raw as Meta | undefined)?.metadata?.resourceVersion;
      if (type === "BOOKMARK") {
        if (rv) this.#resourceVersion = rv;
        return;
      }
      const o = this.#o.decode(raw);
      if (type === "ADDED" || type === "MODIFIED") this.#store.set(objectKey(o), o);
      else if (type === "DELETED") this.#store.delete(objectKey(o));
      else return;
      if (rv) this.#resourceVersion = rv;
      this.#o.onChange();
    };
    try {
      const w = await this.#o.watch(this.#resourceVersion, onEvent, done);
      if (isEnded() || this.#isStopped()) {
        w.abort();
        return;
      }
      this.#watch = w;
    } catch (e) {
      done(e);
    }
  }
}
