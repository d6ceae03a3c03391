/**
 * @module diagnostics/adapter-rbac
 * Whether the adapter's service account holds what a delegating API server needs: read
 * kube-system/extension-apiserver-authentication (RoleBinding to
 * extension-apiserver-authentication-reader), create TokenReviews and SubjectAccessReviews
 * (ClusterRoleBinding to system:auth-delegator), and list and watch pods. Asked with
 * SubjectAccessReviews, so any role that grants it counts, as the API server would decide; the
 * standard bindings are looked for too, since relying on a broader role breaks when it narrows.
 */
import type { KubeClient } from "../kube/client.ts";
import type { Check } from "./checks.ts";

const SECTION = "adapter RBAC";

export interface ServiceAccountRef {
  readonly namespace: string;
  readonly name: string;
}

interface Attributes {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace?: string;
  readonly name?: string;
}

/** A need, the attributes that express it, and the binding that grants it in deploy/. */
interface Need {
  readonly id: "auth-reader" | "auth-delegator" | "pod-reader";
  readonly what: string;
  readonly attributes: readonly Attributes[];
  readonly effect: string;
}

const CM = { namespace: "kube-system", name: "extension-apiserver-authentication" } as const;

const NEEDS: readonly Need[] = [
  {
    id: "auth-reader",
    what: "get and watch configmap kube-system/extension-apiserver-authentication",
    attributes: [
      { verb: "get", group: "", resource: "configmaps", ...CM },
      { verb: "watch", group: "", resource: "configmaps", ...CM },
    ],
    effect:
      "it cannot learn the front-proxy CA: it fails at its next start (or, told to tolerate that, answers the aggregator 401), and the APIServices become unavailable",
  },
  {
    id: "auth-delegator",
    what: "create TokenReviews and SubjectAccessReviews",
    attributes: [
      { verb: "create", group: "authentication.k8s.io", resource: "tokenreviews" },
      { verb: "create", group: "authorization.k8s.io", resource: "subjectaccessreviews" },
    ],
    effect:
      "it cannot authenticate tokens nor authorize requests: every metrics request fails (403)",
  },
  {
    id: "pod-reader",
    what: "list and watch pods in every namespace",
    attributes: [
      { verb: "list", group: "", resource: "pods" },
      { verb: "watch", group: "", resource: "pods" },
    ],
    effect: "it cannot list the pods an HPA selects: pods/* requests fail",
  },
];

/** The standard binding for a need, as a command. */
function fixFor(need: Need["id"], sa: ServiceAccountRef): string {
  const s = `--serviceaccount=${sa.namespace}:${sa.name}`;
  switch (need) {
    case "auth-reader":
      return `kubectl create rolebinding -n kube-system ${sa.name}-auth-reader --role=extension-apiserver-authentication-reader ${s}`;
    case "auth-delegator":
      return `kubectl create clusterrolebinding ${sa.name}:system:auth-delegator --clusterrole=system:auth-delegator ${s}`;
    case "pod-reader":
      return `bind a ClusterRole with get, list and watch on pods (and the other resources your rules name), e.g. kubectl create clusterrole ${sa.name}-resource-reader --verb=get,list,watch --resource=pods,namespaces,nodes,services && kubectl create clusterrolebinding ${sa.name}-resource-reader --clusterrole=${sa.name}-resource-reader ${s}`;
  }
}

interface Binding {
  readonly roleRef?: { readonly kind?: string; readonly name?: string };
  readonly subjects?: readonly {
    readonly kind?: string;
    readonly name?: string;
    readonly namespace?: string;
  }[];
}

/** Whether a binding names the service account (directly or through its groups). */
export function bindsServiceAccount(b: Binding, sa: ServiceAccountRef): boolean {
  return (b.subjects ?? []).some(
    (s) =>
      (s.kind === "ServiceAccount" && s.name === sa.name && s.namespace === sa.namespace) ||
      (s.kind === "Group" &&
        (s.name === "system:serviceaccounts" ||
          s.name === `system:serviceaccounts:${sa.namespace}`)),
  );
}

/** What the API server answered, and whether the standard binding exists (undefined: unknown). */
export interface NeedResult {
  readonly id: Need["id"];
  readonly denied: readonly string[];
  readonly standardBinding: boolean | undefined;
}

/** Checks from the answers; pure, so each outcome is testable. */
export function judgeRbac(sa: ServiceAccountRef, results: readonly NeedResult[]): Check[] {
  const who = `service account ${sa.namespace}/${sa.name}`;
  return results.map((r): Check => {
    const need = NEEDS.find((n) => n.id === r.id);
    const what = need?.what ?? r.id;
    const binding =
      r.id === "auth-reader"
        ? "RoleBinding in kube-system to Role extension-apiserver-authentication-reader"
        : r.id === "auth-delegator"
          ? "ClusterRoleBinding to ClusterRole system:auth-delegator"
          : "ClusterRoleBinding to a role that reads pods";
    if (r.denied.length > 0) {
      return {
        section: SECTION,
        status: "fail",
        kind: `no-${r.id}`,
        title: `${who} may not ${what} (denied: ${r.denied.join(", ")})`,
        cause: `${r.standardBinding === false ? `there is no ${binding} for it` : "RBAC denies it"}, so ${need?.effect ?? "the adapter fails"}`,
        fix: fixFor(r.id, sa),
      };
    }
    if (r.standardBinding === false && r.id !== "pod-reader") {
      return {
        section: SECTION,
        status: "warn",
        kind: `${r.id}-binding-missing`,
        title: `${who} may ${what}, but only through a broader role: no ${binding} names it`,
        cause: `when that broader role is narrowed, ${need?.effect ?? "the adapter fails"}`,
        fix: fixFor(r.id, sa),
      };
    }
    return { section: SECTION, status: "ok", title: `${who} may ${what}` };
  });
}

interface SarAnswer {
  readonly status?: { readonly allowed?: boolean };
}

/** Asks the API server, as the caller, what the service account may do. */
export async function checkAdapterRbac(kube: KubeClient, sa: ServiceAccountRef): Promise<Check[]> {
  const user = `system:serviceaccount:${sa.namespace}:${sa.name}`;
  const groups = [
    "system:serviceaccounts",
    `system:serviceaccounts:${sa.namespace}`,
    "system:authenticated",
  ];
  const allowed = async (a: Attributes): Promise<boolean> => {
    const r = await kube.json<SarAnswer>(
      "POST",
      "/apis/authorization.k8s.io/v1/subjectaccessreviews",
      {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: { user, groups, resourceAttributes: a },
      },
    );
    return r.status?.allowed === true;
  };
  const list = async (path: string): Promise<Binding[] | undefined> => {
    try {
      return (await kube.json<{ items?: Binding[] }>("GET", path)).items ?? [];
    } catch {
      return undefined;
    }
  };
  let results: NeedResult[];
  try {
    const [roleBindings, clusterRoleBindings] = await Promise.all([
      list("/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings"),
      list("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"),
    ]);
    const has = (bs: Binding[] | undefined, kind: string, role: string) =>
      bs === undefined
        ? undefined
        : bs.some(
            (b) =>
              b.roleRef?.kind === kind && b.roleRef.name === role && bindsServiceAccount(b, sa),
          );
    results = await Promise.all(
      NEEDS.map(async (n): Promise<NeedResult> => {
        const answers = await Promise.all(n.attributes.map(allowed));
        const denied = n.attributes.filter((_, i) => answers[i] !== true).map((a) => a.verb);
        const standardBinding =
          n.id === "auth-reader"
            ? has(roleBindings, "Role", "extension-apiserver-authentication-reader")
            : n.id === "auth-delegator"
              ? has(clusterRoleBindings, "ClusterRole", "system:auth-delegator")
              : undefined;
        return { id: n.id, denied, standardBinding };
      }),
    );
  } catch (e) {
    return [
      {
        section: SECTION,
        status: "skip",
        title: `cannot ask what service account ${sa.namespace}/${sa.name} may do: ${e instanceof Error ? e.message : String(e)}`,
      },
    ];
  }
  return judgeRbac(sa, results);
}
