/**
 * @module apimachinery/group-resource
 * schema.GroupResource: a resource and its API group, printed `resource.group` (`pods` for the
 * core group), as apimachinery pkg/runtime/schema does.
 */

export interface GroupResource {
  readonly group: string;
  readonly resource: string;
}

/** `pods`, `deployments.apps`: Go's GroupResource.String(). */
export function groupResourceString(gr: GroupResource): string {
  return gr.group === "" ? gr.resource : `${gr.resource}.${gr.group}`;
}

/** Go's ParseGroupResource: `deployments.apps` → {group: apps, resource: deployments}. */
export function parseGroupResource(s: string): GroupResource {
  const dot = s.indexOf(".");
  return dot < 0
    ? { group: "", resource: s }
    : { group: s.slice(dot + 1), resource: s.slice(0, dot) };
}
