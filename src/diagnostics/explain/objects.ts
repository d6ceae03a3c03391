/**
 * @module diagnostics/explain/objects
 * The objects link: the one object a request names exists, or the objects its selector picks
 * (the HPA's pods, or any resource's list) are there to be asked about.
 */
import { groupResourceString } from "../../apimachinery/group-resource.ts";
import { KubeApiError } from "../../kube/client.ts";
import type { Chain } from "./chain.ts";
import type { ExplainContext } from "./context.ts";
import { errorText, podCounts, sample } from "./text.ts";
import type { Ask, PodJson } from "./types.ts";

/** The API path prefix of a resource the mapper knows: `/api/v1`, `/apis/apps/v1`. */
function apiBase(ri: { group: string; version: string }): string {
  return ri.group === "" ? `/api/${ri.version}` : `/apis/${ri.group}/${ri.version}`;
}

function nsPath(namespace: string): string {
  return namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
}

/** The objects' names (and the pods, for pods); undefined when this link is broken. */
export async function objectsLink(
  cx: ExplainContext,
  ask: Ask,
  chain: Chain,
  hpaPods: readonly PodJson[] | undefined,
): Promise<{ names: string[]; pods?: readonly PodJson[] } | undefined> {
  const gr = groupResourceString(ask.groupResource);
  if (ask.object !== "*") {
    const what = `${gr} ${ask.namespace ? `${ask.namespace}/` : ""}${ask.object}`;
    try {
      const m = await cx.mapperReady();
      const ri = m.resourceForSync(ask.groupResource);
      if (ri) {
        await cx.kube.json(
          "GET",
          `${apiBase(ri)}${nsPath(ask.namespace)}/${ri.resource}/${encodeURIComponent(ask.object)}`,
        );
      }
      chain.add("objects", "ok", `object: ${what} exists`);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) {
        chain.fail(
          "objects",
          `object: ${what} does not exist`,
          "object-not-found",
          "the metric is asked for an object that does not exist",
          "fix the object's name (describedObject of an Object metric)",
        );
        return undefined;
      }
      chain.add("objects", "skip", `object: cannot read it (${errorText(e)})`);
    }
    return { names: [ask.object] };
  }
  let pods: readonly PodJson[] | undefined;
  let names: string[];
  try {
    if (ask.groupResource.group === "" && ask.groupResource.resource === "pods") {
      pods = hpaPods ?? (await cx.pods(ask.namespace, ask.labelSelector));
      names = pods.map((p) => p.metadata.name);
    } else {
      const m = await cx.mapperReady();
      const ri = m.resourceForSync(ask.groupResource);
      if (!ri) throw new Error(`the cluster serves no ${gr}`);
      const q = ask.labelSelector ? `?labelSelector=${encodeURIComponent(ask.labelSelector)}` : "";
      const l = await cx.kube.json<{ items?: { metadata: { name: string } }[] }>(
        "GET",
        `${apiBase(ri)}${nsPath(ask.namespace)}/${ri.resource}${q}`,
      );
      names = (l.items ?? []).map((x) => x.metadata.name);
    }
  } catch (e) {
    chain.add("objects", "skip", `objects: cannot list ${gr} (${errorText(e)})`);
    return { names: [] };
  }
  const sel = ask.labelSelector || "(everything)";
  if (names.length === 0) {
    chain.fail(
      "objects",
      `objects: selector ${sel} matches no ${gr} in ${ask.namespace}`,
      "no-pods",
      `the ${gr} the request selects do not exist, so there is nothing to ask Prometheus about (the HPA controller reports "no pods returned by selector")`,
      `check that the workload's pods exist and carry the labels of its selector: kubectl get ${gr} -n ${ask.namespace} -l '${ask.labelSelector}'`,
    );
    return undefined;
  }
  const extra = pods ? `, ${podCounts(pods)}` : "";
  chain.add(
    "objects",
    "ok",
    `objects: selector ${sel} matches ${String(names.length)} ${gr}${extra}: ${sample(names)}`,
  );
  return pods ? { names, pods } : { names };
}
