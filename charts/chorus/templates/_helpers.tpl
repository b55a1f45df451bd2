{{/* Chart name, overridable. */}}
{{- define "chorus.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped name: "<release>-chorus", or the release name when it already holds the chart name. */}}
{{- define "chorus.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "chorus.operatorName" -}}
{{- printf "%s-operator" (include "chorus.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "chorus.jaegerName" -}}
{{- printf "%s-jaeger" (include "chorus.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "chorus.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chorus
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* Selector labels of the operator pods (stable across upgrades). */}}
{{- define "chorus.operatorSelectorLabels" -}}
app.kubernetes.io/name: {{ include "chorus.name" . }}-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "chorus.jaegerSelectorLabels" -}}
app.kubernetes.io/name: {{ include "chorus.name" . }}-jaeger
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: tracing
{{- end -}}

{{- define "chorus.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "chorus.operatorName" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "chorus.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{- define "chorus.image" -}}
{{- printf "%s:%s" .Values.image.repository (include "chorus.imageTag" .) -}}
{{- end -}}

{{/* The namespace the operator watches: "" (all) unless rbac.namespaced. */}}
{{- define "chorus.watchNamespace" -}}
{{- if .Values.rbac.namespaced -}}
{{- default .Release.Namespace .Values.rbac.watchNamespace -}}
{{- end -}}
{{- end -}}

{{/* OTLP/HTTP endpoint of the chart's Jaeger. */}}
{{- define "chorus.jaegerOtlpEndpoint" -}}
{{- printf "http://%s.%s.svc:4318" (include "chorus.jaegerName" .) .Release.Namespace -}}
{{- end -}}

{{/* Selector labels the operator puts on a ChatCluster component's pods (operator/src/builders/naming.ts). */}}
{{- define "chorus.clusterSelector" -}}
app.kubernetes.io/name: chorus
app.kubernetes.io/instance: {{ .cluster }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Pod Security Standards "restricted": what every pod of this chart runs with. */}}
{{- define "chorus.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "chorus.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
