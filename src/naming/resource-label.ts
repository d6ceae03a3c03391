/**
 * @module naming/resource-label
 * Prometheus label ⇄ Kubernetes group-resource, from a rule's `resources` block (upstream
 * pkg/naming/resource_converter.go and lbl_res.go). The Go template engine and the REST mapper
 * are injected, so this module stays pure and testable without a cluster.
 */
import { compileRe2, type Re2Regex } from "./re2.ts";
import { NamingError } from "./errors.ts";
import { groupResourceString, type GroupResource } from "../apimachinery/group-resource.ts";

export type { GroupResource };

/** Renders one already-parsed `<< >>` template with `.Group` and `.Resource`. */
export type RenderTemplate = (data: {
  readonly Group: string;
  readonly Resource: string;
}) => string;

/** Parses a `resources.template` (delimiters `<<` `>>`); throws on a parse error. */
export type CompileTemplate = (text: string) => RenderTemplate;

/** The REST-mapper facts naming needs. */
export interface ResourceMapper {
  /** Canonical (plural, fully grouped) form; throws if the resource is unknown. */
  normalize(gr: GroupResource): GroupResource;
  /** Singular form of a plural resource name; throws if unknown. */
  singularize(resource: string): string;
}

export interface ResourceMappingInput {
  readonly template?: string | undefined;
  readonly overrides?:
    | Readonly<Record<string, { readonly group?: string | undefined; readonly resource: string }>>
    | undefined;
}

/** The label regex built from a template, and which groups hold the group and resource. */
export interface LabelExtractor {
  readonly regex: Re2Regex;
  readonly resourceIndex: number;
  readonly groupIndex: number | undefined;
}

/**
 * Renders the template with `(?P<group>.+?)` / `(?P<resource>.+?)` and anchors it. Literal text
 * is not escaped, as upstream. Requires `.Resource`.
 */
export function labelExtractor(render: RenderTemplate): LabelExtractor {
  const raw = render({ Group: "(?P<group>.+?)", Resource: "(?P<resource>.+?)" });
  if (raw === "") {
    throw new NamingError("unable to convert label template to matcher: empty template");
  }
  let regex: Re2Regex;
  try {
    regex = compileRe2(`^${raw}$`);
  } catch (e) {
    throw new NamingError(
      `unable to convert label template to matcher: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  const resourceIndex = regex.groupNames.indexOf("resource");
  const groupIndex = regex.groupNames.indexOf("group");
  if (resourceIndex < 0) {
    throw new NamingError("must include at least `{{.Resource}}` in the label template");
  }
  return { regex, resourceIndex, groupIndex: groupIndex < 0 ? undefined : groupIndex };
}

/** The (un-normalized) group-resource a label names under the template, if it has that form. */
export function groupResourceForLabel(
  extractor: LabelExtractor,
  label: string,
): GroupResource | undefined {
  extractor.regex.regex.lastIndex = 0;
  const m = extractor.regex.regex.exec(label);
  if (m === null) return undefined;
  const group = extractor.groupIndex === undefined ? "" : (m[extractor.groupIndex] ?? "");
  return { group, resource: m[extractor.resourceIndex] ?? "" };
}

export interface ResourceConverter {
  /**
   * The resources a series' labels name (in label order), and whether one is `namespaces`.
   * Labels that neither an override nor the template map, or that the mapper rejects, are
   * skipped silently (upstream logs them at V(9)).
   */
  resourcesForLabels(labels: Iterable<string>): {
    resources: GroupResource[];
    namespaced: boolean;
  };
  /** The label for a resource: override reverse mapping, else the template. Throws if neither. */
  labelForResource(gr: GroupResource): string;
  /**
   * Overrides naming a resource the cluster does not serve (yet: a CRD installed later). Their
   * labels map to nothing until the mapper knows the resource; each use tries again.
   */
  unresolvedOverrides(): readonly UnresolvedOverride[];
}

export interface UnresolvedOverride {
  readonly label: string;
  /** As written: `widgets.example.com`. */
  readonly resource: string;
  readonly reason: string;
}

const GROUP_SANITIZER = /[.-]/g;
const NAMESPACES: GroupResource = { group: "", resource: "namespaces" };

function key(gr: GroupResource): string {
  return `${gr.group}/${gr.resource}`;
}

/**
 * Builds the converter for one `resources` block. Overrides are normalized now where the mapper
 * knows them; upstream exits on an unknown one, here it stays pending (see
 * {@link ResourceConverter.unresolvedOverrides}) so a CRD installed later works without a restart.
 * Template labels are normalized lazily.
 */
export function createResourceConverter(
  mapping: ResourceMappingInput,
  deps: { readonly compileTemplate: CompileTemplate; readonly mapper: ResourceMapper },
): ResourceConverter {
  const labelToResource = new Map<string, GroupResource>();
  const resourceToLabel = new Map<string, string>();
  let render: RenderTemplate | undefined;
  let extractor: LabelExtractor | undefined;
  const template = mapping.template ?? "";
  if (template !== "") {
    try {
      render = deps.compileTemplate(template);
    } catch (e) {
      throw new NamingError(
        `unable to parse label template ${JSON.stringify(template)}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
    try {
      extractor = labelExtractor(render);
    } catch (e) {
      throw new NamingError(
        `unable to generate label format from template ${JSON.stringify(template)}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
  }
  const pending = new Map<string, GroupResource>(
    Object.entries(mapping.overrides ?? {}).map(([label, gr]) => [
      label,
      { group: gr.group ?? "", resource: gr.resource },
    ]),
  );
  const unresolved = new Map<string, UnresolvedOverride>();
  const resolvePending = (): void => {
    for (const [label, raw] of pending) {
      let info: GroupResource;
      try {
        info = deps.mapper.normalize(raw);
      } catch (e) {
        unresolved.set(label, {
          label,
          resource: groupResourceString(raw),
          reason: `unable to normalize group-resource ${groupResourceString(raw)}: ${e instanceof Error ? e.message : String(e)}`,
        });
        continue;
      }
      pending.delete(label);
      unresolved.delete(label);
      labelToResource.set(label, info);
      resourceToLabel.set(key(info), label);
    }
  };
  resolvePending();

  return {
    unresolvedOverrides() {
      if (pending.size > 0) resolvePending();
      return [...unresolved.values()];
    },

    resourcesForLabels(labels) {
      if (pending.size > 0) resolvePending();
      const resources: GroupResource[] = [];
      let namespaced = false;
      for (const label of labels) {
        // A pending override's label means that resource, never a template guess.
        if (pending.has(label)) continue;
        let gr = labelToResource.get(label);
        if (gr === undefined && extractor !== undefined) {
          const guess = groupResourceForLabel(extractor, label);
          if (guess !== undefined) {
            try {
              gr = deps.mapper.normalize(guess);
            } catch {
              continue;
            }
          }
        }
        if (gr === undefined) continue;
        resources.push(gr);
        if (gr.group === NAMESPACES.group && gr.resource === NAMESPACES.resource) namespaced = true;
      }
      return { resources, namespaced };
    },

    labelForResource(gr) {
      if (pending.size > 0) resolvePending();
      const override = resourceToLabel.get(key(gr));
      if (override !== undefined) return override;
      const fail = (why: string): never => {
        throw new NamingError(
          `unable to convert resource ${groupResourceString(gr)} into label: ${why}`,
        );
      };
      if (render === undefined)
        return fail("no generic resource label form specified for this metric");
      let singular: string;
      try {
        singular = deps.mapper.singularize(gr.resource);
      } catch (e) {
        return fail(
          `unable to singularize resource ${groupResourceString(gr)}: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      const label = render({ Group: gr.group.replace(GROUP_SANITIZER, "_"), Resource: singular });
      if (label === "") return fail("empty label produced by label template");
      return label;
    },
  };
}
