/**
 * @module config/watch
 * Reloads the config file when it changes and on SIGHUP (prometheus-adapter issues #104, #678).
 *
 * A ConfigMap volume updates a file by swapping a `..data` symlink in the file's folder, so the
 * file's own inode never changes and a watch on the file sees nothing: the folder is watched
 * instead, and every event only schedules a re-read, which compares the text with the last one
 * loaded. A watch can also miss events (editors that rename, network filesystems), so the file is
 * re-read on a slow timer as well. Each reload validates the new text first; only a config that
 * loads and applies replaces the running one, so a bad edit keeps the last good config.
 */
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import type { Logger } from "../observability/logger.ts";
import { ConfigError, formatIssue } from "./errors.ts";
import { readConfigText } from "./load.ts";

export interface ConfigWatchOptions<T> {
  readonly path: string;
  /** The text of the config now running (what was loaded at startup). */
  readonly initialText: string;
  /** Parses and validates; throws ConfigError with file:line:col for a bad file. */
  readonly load: (text: string) => T | Promise<T>;
  /** Puts a loaded config in place (recompile rules, rerun discovery). Throws to refuse it. */
  readonly apply: (config: T) => void | Promise<void>;
  readonly log: Logger;
  /** After each attempt: whether the running config is now the file's. */
  readonly onReload?: (ok: boolean) => void;
  /** Coalesces bursts of events (a symlink swap makes several); default 250 ms. */
  readonly debounceMs?: number;
  /** Safety re-read for missed events; default 60 s, 0 to turn off. */
  readonly pollMs?: number;
}

export interface ConfigWatch {
  /** Re-reads now (SIGHUP does this); resolves when that attempt is over. */
  reload(reason: string): Promise<boolean>;
  close(): void;
}

export function watchConfig<T>(o: ConfigWatchOptions<T>): ConfigWatch {
  let current = o.initialText;
  let running: Promise<boolean> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const attempt = async (reason: string): Promise<boolean> => {
    let text: string;
    try {
      text = await readConfigText(o.path);
    } catch (e) {
      if (e instanceof ConfigError && e.cause === undefined) {
        // Read, but refused (too large, UTF-16; no I/O error behind it): a config error.
        o.log.error(
          { path: o.path, reason },
          `config reload failed; keeping the last good config:\n${e.issues.map(formatIssue).join("\n")}`,
        );
        o.onReload?.(false);
        return false;
      }
      // Mid-swap the file can be briefly absent; the next event or poll reads it again.
      o.log.warn(
        { err: String(e), path: o.path, reason },
        "config reload: cannot read the file; keeping the running config",
      );
      o.onReload?.(false);
      return false;
    }
    if (text === current) return true;
    try {
      const config = await o.load(text);
      await o.apply(config);
    } catch (e) {
      const detail = e instanceof ConfigError ? e.issues.map(formatIssue).join("\n") : String(e);
      o.log.error(
        { path: o.path, reason },
        `config reload failed; keeping the last good config:\n${detail}`,
      );
      o.onReload?.(false);
      return false;
    }
    current = text;
    o.log.info({ path: o.path, reason }, "config reloaded");
    o.onReload?.(true);
    return true;
  };

  // One attempt at a time; a request during one runs once more after it.
  const reload = (reason: string): Promise<boolean> => {
    if (running) {
      again = true;
      return running;
    }
    running = attempt(reason).finally(() => {
      running = undefined;
      if (again && !closed) {
        again = false;
        void reload(reason);
      }
    });
    return running;
  };

  const schedule = (reason: string) => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload(reason), o.debounceMs ?? 250);
    timer.unref();
  };

  const name = basename(o.path);
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(o.path), (_event, file) => {
      // `..data` swaps of a ConfigMap volume name other files than ours.
      if (file === null || file === name || file.startsWith("..")) schedule("file changed");
    });
    watcher.on("error", (e) => {
      o.log.warn({ err: String(e) }, "config reload: watching the folder failed; polling only");
    });
    watcher.unref();
  } catch (e) {
    o.log.warn({ err: String(e) }, "config reload: cannot watch the folder; polling only");
  }
  const pollMs = o.pollMs ?? 60_000;
  const poll = pollMs > 0 ? setInterval(() => void reload("poll"), pollMs) : undefined;
  poll?.unref();

  return {
    reload,
    close() {
      closed = true;
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      watcher?.close();
    },
  };
}
