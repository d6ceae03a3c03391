/**
 * @module diagnostics/doctor/context
 * What every check of `doctor` reads through and writes to: the options, the time it judges at,
 * and the checks so far, in the order they are shown.
 */
import type { KubeClient } from "../../kube/client.ts";
import type { Check } from "../checks.ts";
import type { DoctorOptions } from "./types.ts";

export class DoctorContext {
  readonly checks: Check[] = [];
  readonly o: DoctorOptions;
  readonly now: Date;
  /** The adapter's Service could not be read (not missing): checks go through the proxy. */
  serviceError: string | undefined;

  constructor(o: DoctorOptions) {
    this.o = o;
    this.now = o.now ?? new Date();
  }

  get kube(): KubeClient {
    return this.o.kube;
  }
}
