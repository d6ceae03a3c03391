{{/*
The adapter's config file (prometheus-adapter's format), built as prometheus-adapter's chart builds
its ConfigMap (charts/prometheus-adapter/templates/configmap.yaml): `rules:` when rules.default or
rules.custom is set (the default rules first, then rules.custom), `externalRules:` from
rules.external, `resourceRules:` from rules.resource; empty when none is set.
*/}}

{{/*
That chart's default rules. Three over cAdvisor's container_* series as pod metrics (counters in
seconds, other counters, the rest), three over every series with a namespace label as metrics of
the objects their labels name (the rest, counters, counters in seconds).
*/}}
{{- define "kcm.defaultRules" -}}
{{- $cadvisor := `{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}` -}}
{{- $podOverrides := dict "overrides" (dict "namespace" (dict "resource" "namespace") "pod" (dict "resource" "pod")) -}}
{{- $cRate := `sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[5m])) by (<<.GroupBy>>)` -}}
{{- $cSum := `sum(<<.Series>>{<<.LabelMatchers>>,container!="POD"}) by (<<.GroupBy>>)` -}}
{{- $namespaced := `{namespace!="",__name__!~"^container_.*"}` -}}
{{- $byLabel := dict "template" "<<.Resource>>" -}}
{{- $nRate := `sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)` -}}
{{- $nSum := `sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)` -}}
{{- $rules := list
  (list $cadvisor $podOverrides "" `^container_(.*)_seconds_total$` $cRate)
  (list $cadvisor $podOverrides `^container_.*_seconds_total$` `^container_(.*)_total$` $cRate)
  (list $cadvisor $podOverrides `^container_.*_total$` `^container_(.*)$` $cSum)
  (list $namespaced $byLabel `.*_total$` "" $nSum)
  (list $namespaced $byLabel `.*_seconds_total` `^(.*)_total$` $nRate)
  (list $namespaced $byLabel "" `^(.*)_seconds_total$` $nRate)
-}}
{{- $out := list -}}
{{- range $rules -}}
{{- $filters := list -}}
{{- if index . 2 }}{{ $filters = list (dict "isNot" (index . 2)) }}{{ end -}}
{{- $out = append $out (dict
  "seriesQuery" (index . 0)
  "seriesFilters" $filters
  "resources" (index . 1)
  "name" (dict "matches" (index . 3) "as" "")
  "metricsQuery" (index . 4)) -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{- define "kcm.config" -}}
{{- $config := dict -}}
{{- if or .Values.rules.default .Values.rules.custom -}}
{{- $rules := list -}}
{{- if .Values.rules.default -}}
{{- $rules = include "kcm.defaultRules" . | fromYamlArray -}}
{{- end -}}
{{- $_ := set $config "rules" (concat $rules (.Values.rules.custom | default list)) -}}
{{- end -}}
{{- with .Values.rules.external -}}
{{- $_ := set $config "externalRules" . -}}
{{- end -}}
{{- with .Values.rules.resource -}}
{{- $_ := set $config "resourceRules" . -}}
{{- end -}}
{{- if $config -}}
{{- toYaml $config -}}
{{- end -}}
{{- end -}}
