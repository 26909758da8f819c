{{/* Chart name, truncated to the 63 characters Kubernetes allows. */}}
{{- define "threadmesh.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped name: the release name, or <release>-threadmesh. */}}
{{- define "threadmesh.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object; call with (dict "root" $ "component" "router"). */}}
{{- define "threadmesh.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "threadmesh.selectorLabels" . }}
{{- end -}}

{{/* Selector labels; call with (dict "root" $ "component" "router"). */}}
{{- define "threadmesh.selectorLabels" -}}
app.kubernetes.io/name: {{ include "threadmesh.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "threadmesh.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "threadmesh.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "threadmesh.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Secret holding the credentials the chart was given as values. */}}
{{- define "threadmesh.secretName" -}}
{{- printf "%s-credentials" (include "threadmesh.fullname" .) -}}
{{- end -}}

{{/* DATABASE_URL from the chart's secret or an existing one. */}}
{{- define "threadmesh.databaseEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      {{- if .Values.database.existingSecret }}
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.existingSecretKey }}
      {{- else }}
      name: {{ include "threadmesh.secretName" . }}
      key: DATABASE_URL
      {{- end }}
{{- end -}}

{{/* Name of the ConfigMap of settings every router and host shares. */}}
{{- define "threadmesh.configName" -}}
{{- printf "%s-config" (include "threadmesh.fullname" .) -}}
{{- end -}}

{{/* Environment variables as a list of name/value pairs from a map. */}}
{{- define "threadmesh.envList" -}}
{{- range $name, $value := . }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* Seconds a pod gets from termination to SIGKILL: preStop + drain deadline + 2 s exit + margin; call with a component's values. */}}
{{- define "threadmesh.terminationGracePeriod" -}}
{{- add .preStopSleepSeconds (div (add .drainDeadlineMs 999) 1000) 2 .terminationMarginSeconds -}}
{{- end -}}

{{/* Container security context of processes that need no sandbox. */}}
{{- define "threadmesh.restrictedContainer" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
