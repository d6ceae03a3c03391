/**
 * @module diagnostics/explain/explainer
 * `explain`: walks one HPA's metrics, or one raw metrics request, link by link in the order a
 * request travels (HPA spec and scale target, the APIService, the metric in the adapter's
 * discovery, the rule that gives it, the objects asked for, the rendered PromQL and what
 * Prometheus returns, the adapter's answer, what the HPA controller computes from it), and stops
 * each chain at its first broken link, naming the cause and the fix. Everything is read with the
 * caller's credentials through the API server (plus Prometheus and the config when given), so it
 * never shows what the caller could not read with kubectl.
 */
import type { KubeClient } from "../../kube/client.ts";
import { Chain } from "./chain.ts";
import { ExplainContext } from "./context.ts";
import { explainHpa } from "./hpa.ts";
import { firstBroken, type ExplainReport, type Section } from "./report.ts";
import { askOf, askText, requestPath } from "./request.ts";
import type { ExplainOptions, ExplainTarget } from "./types.ts";
import { walk } from "./walk.ts";

export class Explainer {
  readonly #cx: ExplainContext;

  constructor(o: ExplainOptions) {
    this.#cx = new ExplainContext(o);
  }

  get kube(): KubeClient {
    return this.#cx.kube;
  }

  async run(target: ExplainTarget): Promise<ExplainReport> {
    const cx = this.#cx;
    const sections: Section[] = [];
    let subject: string;
    if (target.kind === "hpa") {
      subject = `hpa ${target.namespace}/${target.name}`;
      await explainHpa(cx, target.namespace, target.name, sections);
    } else {
      const ask = await askOf(cx, target);
      subject = `metric ${askText(ask)}`;
      const chain = new Chain();
      await walk(cx, ask, chain, undefined);
      sections.push({ title: `request ${requestPath(ask, "v1beta2")}`, links: chain.links });
    }
    const fb = firstBroken(sections);
    return { subject, sections, ...(fb ? { firstBroken: fb } : {}) };
  }

  /** The clients `explain` made for rules' own servers. */
  async close(): Promise<void> {
    await this.#cx.servers.close();
  }
}

export async function runExplain(o: ExplainOptions, target: ExplainTarget): Promise<ExplainReport> {
  const e = new Explainer(o);
  try {
    return await e.run(target);
  } finally {
    await e.close();
  }
}
