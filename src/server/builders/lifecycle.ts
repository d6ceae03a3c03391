/**
 * @module server/builders/lifecycle
 * SIGTERM and SIGINT: stop taking new work, let the listener finish in-flight requests, then
 * release what those requests used, and exit 0.
 */
import type { Logger } from "../../observability/logger.ts";

export interface ShutdownSteps {
  /** Background work that feeds answers (relists, scrapes, watches of files): stopped first. */
  readonly beforeListener: () => void;
  /** The listener's graceful shutdown. */
  readonly listener: () => Promise<void>;
  /**
   * What in-flight requests still use (the pod cache, the Prometheus client): only after the
   * listener closed, since stopping the pod watch first let a new connection be reset instead of
   * refused (test/e2e/adapter-secure.test.ts).
   */
  readonly afterListener: () => Promise<void>;
}

export function stopOnSignals(log: Logger, steps: ShutdownSteps): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down: finishing in-flight requests");
    steps.beforeListener();
    void steps
      .listener()
      .then(steps.afterListener)
      .finally(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
