{{/* Chart name. */}}
{{- define "lettrage.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name. */}}
{{- define "lettrage.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Common labels. */}}
{{- define "lettrage.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "lettrage.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels. */}}
{{- define "lettrage.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lettrage.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Service account name. */}}
{{- define "lettrage.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "lettrage.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The state store driver of the configuration. */}}
{{- define "lettrage.stateDriver" -}}
{{- $state := .Values.config.state | default dict }}
{{- $state.driver | default "sqlite" }}
{{- end }}

{{/*
Refuse a secret written inline in the configuration: a key that Lettrage
treats as a secret (it has a *_file sibling) must be empty, a ${ENV}
reference (secrets.env) or replaced by its *_file key (secrets.files).
Called with (list "path" value); walks maps and lists.
*/}}
{{- define "lettrage.noInlineSecrets" -}}
{{- $path := index . 0 }}
{{- $v := index . 1 }}
{{- $secretKeys := list "password" "dsn" "private_key" "passphrase" "secret_access_key" "access_key_id" "api_key" }}
{{- if kindIs "map" $v }}
{{- range $k, $x := $v }}
{{- if and (has $k $secretKeys) (kindIs "string" $x) $x (not (hasPrefix "${" $x)) }}
{{- fail (printf "config%s.%s: secret written inline; use %s_file with secrets.files, or ${VAR} with secrets.env" $path $k $k) }}
{{- end }}
{{- include "lettrage.noInlineSecrets" (list (printf "%s.%s" $path $k) $x) }}
{{- end }}
{{- else if kindIs "slice" $v }}
{{- range $i, $x := $v }}
{{- include "lettrage.noInlineSecrets" (list (printf "%s[%d]" $path $i) $x) }}
{{- end }}
{{- end }}
{{- end }}
