{{/*
Names, labels and the switches several templates share. Naming follows prometheus-adapter's chart
(charts/prometheus-adapter/templates/_helpers.tpl): nameOverride, fullnameOverride (the release
name alone when it already contains the chart's name), namespaceOverride.
*/}}

{{- define "kcm.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kcm.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "kcm.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kcm.namespace" -}}
{{- .Values.namespaceOverride | default .Release.Namespace -}}
{{- end -}}

{{- define "kcm.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kcm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kcm.labels" -}}
{{ include "kcm.selectorLabels" . }}
app.kubernetes.io/component: metrics-adapter
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- with .Values.customLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
metadata.annotations of an object at metadata level (a leading newline, indented by 2):
customAnnotations and `extra` (a dict), or nothing.
*/}}
{{- define "kcm.annotations" -}}
{{- $all := merge (deepCopy (.extra | default dict)) (.root.Values.customAnnotations | default dict) -}}
{{- with $all }}
  annotations:
    {{- toYaml . | nindent 4 }}
{{- end }}
{{- end -}}

{{- define "kcm.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "kcm.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* "true" when the serving certificate comes from a Secret (tls.* or cert-manager). */}}
{{- define "kcm.servingSecret" -}}
{{- if or .Values.tls.enable .Values.certManager.enabled }}true{{ end -}}
{{- end -}}

{{/*
Which APIServices this release registers ("true" or ""). As prometheus-adapter's chart
(custom-metrics-apiservice.yaml, external-metrics-apiservice.yaml, resource-metrics-apiservice.yaml)
unless apiServices.<api> says otherwise; metrics.k8s.io also for resourceMetrics.source.
*/}}
{{- define "kcm.serveCustom" -}}
{{- if kindIs "bool" .Values.apiServices.custom -}}
{{- if .Values.apiServices.custom }}true{{ end -}}
{{- else if or .Values.rules.default .Values.rules.custom }}true{{ end -}}
{{- end -}}

{{- define "kcm.serveExternal" -}}
{{- if kindIs "bool" .Values.apiServices.external -}}
{{- if .Values.apiServices.external }}true{{ end -}}
{{- else if .Values.rules.external }}true{{ end -}}
{{- end -}}

{{- define "kcm.serveResource" -}}
{{- if kindIs "bool" .Values.apiServices.resource -}}
{{- if .Values.apiServices.resource }}true{{ end -}}
{{- else if or .Values.rules.resource .Values.resourceMetrics.source }}true{{ end -}}
{{- end -}}

{{/* prometheus-adapter's default image: a values file dumped from its chart names it. */}}
{{- define "kcm.upstreamImage" -}}
{{- if hasSuffix "/prometheus-adapter/prometheus-adapter" (.Values.image.repository | default "" | toString) }}true{{ end -}}
{{- end -}}

{{- define "kcm.image" -}}
{{- $repo := .Values.image.repository -}}
{{- $tag := .Values.image.tag | default "" | toString -}}
{{- if include "kcm.upstreamImage" . -}}
{{- /* Its tag (v0.12.0) means nothing for this image either. */ -}}
{{- $repo = "ghcr.io/k8s-custom-metrics/k8s-custom-metrics" -}}
{{- $tag = "" -}}
{{- end -}}
{{- printf "%s:%s" $repo ($tag | default .Chart.AppVersion) -}}
{{- end -}}
