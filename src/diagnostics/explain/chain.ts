/**
 * @module diagnostics/explain/chain
 * The links of one chain as they are walked: each check adds one, and the first ✗ marks the
 * chain broken, so the links after it are named as not checked rather than walked.
 */
import type { Link, LinkStatus } from "./report.ts";

export class Chain {
  readonly links: Link[] = [];
  broken = false;

  add(step: string, status: LinkStatus, title: string, more: Partial<Link> = {}): void {
    this.links.push({ step, status, title, ...more });
    if (status === "fail") this.broken = true;
  }

  fail(
    step: string,
    title: string,
    kind: string,
    cause: string,
    fix: string,
    more: Partial<Link> = {},
  ): void {
    this.add(step, "fail", title, { kind, cause, fix, ...more });
  }

  /** The links not walked after the first broken one. */
  rest(steps: readonly string[]): void {
    const left = steps.filter((s) => !this.links.some((l) => l.step === s));
    if (left.length > 0) {
      this.links.push({
        step: "not-checked",
        status: "skip",
        title: `not checked after the first broken link: ${left.join(", ")}`,
      });
    }
  }
}
