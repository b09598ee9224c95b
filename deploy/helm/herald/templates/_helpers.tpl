{{- define "herald.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "herald.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "herald.selectorLabels" -}}
app.kubernetes.io/name: {{ include "herald.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "herald.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "herald.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "herald.secretName" -}}
{{- default (include "herald.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* The drain, in whole seconds, rounded up. */}}
{{- define "herald.drainSeconds" -}}
{{- $ms := int (default "10000" (index .Values.config "HERALD_SHUTDOWN_TIMEOUT_MS")) -}}
{{- div (add $ms 999) 1000 -}}
{{- end -}}

{{- define "herald.terminationGraceSeconds" -}}
{{- add (int .Values.preStopSleepSeconds) (int (include "herald.drainSeconds" .)) (int .Values.terminationGraceExtraSeconds) -}}
{{- end -}}

{{/* Fails the render on settings that cannot work, before anything reaches the cluster. */}}
{{- define "herald.validate" -}}
{{- if lt (int .Values.terminationGraceExtraSeconds) 1 -}}
{{- fail "terminationGraceExtraSeconds must be at least 1: the termination grace must be longer than the drain" -}}
{{- end -}}
{{- if not .Values.secrets.existingSecret -}}
{{- if lt (len .Values.secrets.jwtSecret) 32 -}}
{{- fail "secrets.jwtSecret is required (at least 32 characters), or name secrets.existingSecret" -}}
{{- end -}}
{{- if lt (len .Values.secrets.apiKey) 16 -}}
{{- fail "secrets.apiKey is required (at least 16 characters), or name secrets.existingSecret" -}}
{{- end -}}
{{- if gt (int .Values.replicaCount) 1 -}}
{{- if not (regexMatch "^postgres(ql)?://" .Values.secrets.databaseUrl) -}}
{{- fail "more than one replica needs secrets.databaseUrl to be a postgres:// URL: the nodes share one store" -}}
{{- end -}}
{{- if not (regexMatch "^rediss?://" .Values.secrets.redisUrl) -}}
{{- fail "more than one replica needs secrets.redisUrl (redis://...): the nodes pass events to each other over Redis" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $name, $_ := .Values.config -}}
{{- if not (hasPrefix "HERALD_" $name) -}}
{{- fail (printf "config.%s: only HERALD_* variables belong in config" $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
