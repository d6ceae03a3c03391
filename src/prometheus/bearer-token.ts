/**
 * @module prometheus/bearer-token
 * The bearer token from `--prometheus-token-file`. Upstream reads it once; projected
 * service-account tokens rotate, so, like client-go's cached file token source, the file is
 * checked again once the refresh interval has passed and re-read when it changed. A failed
 * re-read (mid-rotation, say) keeps the last good token.
 */
import { readFile, stat } from "node:fs/promises";
import { KcmError } from "../errors.ts";

export class BearerTokenSource {
  readonly #file: string;
  readonly #refreshMs: number;
  #token = "";
  #version = "";
  #checkedAt = 0;
  #pending: Promise<void> | undefined;

  private constructor(file: string, refreshMs: number) {
    this.#file = file;
    this.#refreshMs = refreshMs;
  }

  /** Reads the file now; a missing or empty file is a startup error. */
  static async open(file: string, refreshMs: number): Promise<BearerTokenSource> {
    const src = new BearerTokenSource(file, refreshMs);
    try {
      await src.#load();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      throw new KcmError("KCM_ERR_USAGE", `cannot read --prometheus-token-file ${file} (${code})`, {
        cause: e,
      });
    }
    if (src.#token === "") {
      throw new KcmError("KCM_ERR_USAGE", `--prometheus-token-file ${file} is empty`);
    }
    return src;
  }

  /** The current token, re-checking the file when the refresh interval has passed. */
  async token(): Promise<string> {
    if (Date.now() - this.#checkedAt >= this.#refreshMs) {
      this.#pending ??= this.#load()
        .catch(() => undefined)
        .finally(() => {
          this.#pending = undefined;
        });
      await this.#pending;
    }
    return this.#token;
  }

  async #load(): Promise<void> {
    this.#checkedAt = Date.now();
    const st = await stat(this.#file);
    // Size and mtime (ns) catch both in-place rewrites and the symlink swap of projected volumes.
    const version = `${String(st.size)}:${String(st.mtimeMs)}:${String(st.ino)}`;
    if (version === this.#version) return;
    // Trimmed, unlike upstream: a trailing newline would make an invalid header value.
    const token = (await readFile(this.#file, "utf8")).trim();
    if (token !== "") this.#token = token;
    this.#version = version;
  }
}
