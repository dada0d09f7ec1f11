{{/* The six services and their HTTP ports (fixed: the images and docs use them). */}}
{{- define "tessera.ports" -}}
crm: 3001
ingestion: 3002
segmentation: 3003
journeys: 3004
messaging: 3005
analytics: 3006
{{- end -}}

{{/* Enabled service names, in port order, as a YAML list. */}}
{{- define "tessera.enabledServices" -}}
{{- $ports := include "tessera.ports" . | fromYaml -}}
{{- $enabled := list -}}
{{- range $svc := list "crm" "ingestion" "segmentation" "journeys" "messaging" "analytics" -}}
{{- if (index $.Values.services $svc).enabled -}}{{- $enabled = append $enabled $svc -}}{{- end -}}
{{- end -}}
{{- toYaml $enabled -}}
{{- end -}}

{{- define "tessera.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tessera.fullname" -}}
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

{{- define "tessera.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "tessera.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tessera
{{- end -}}

{{/* Selector labels of one component; call with (dict "root" $ "component" "crm"). */}}
{{- define "tessera.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tessera.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Effective values of one service: serviceDefaults overridden by services.<svc>. Returns YAML. */}}
{{- define "tessera.serviceValues" -}}
{{- $own := omit (index .root.Values.services .svc) "enabled" -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.serviceDefaults) (deepCopy $own)) -}}
{{- end -}}

{{/* Image reference of one service; call with (dict "root" $ "svc" "crm"). */}}
{{- define "tessera.image" -}}
{{- $img := .root.Values.image -}}
{{- $repo := printf "%s/%s" $img.repository .svc -}}
{{- if $img.registry -}}{{- $repo = printf "%s/%s" (trimSuffix "/" $img.registry) $repo -}}{{- end -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{- define "tessera.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tessera.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Where DATABASE_URL lives for the Deployments: "name" and "key" as YAML. */}}
{{- define "tessera.databaseSecret" -}}
{{- if eq .Values.postgres.mode "bundled" -}}
name: {{ include "tessera.fullname" . }}-postgres
key: DATABASE_URL
{{- else if .Values.postgres.external.existingSecret -}}
name: {{ .Values.postgres.external.existingSecret }}
key: {{ .Values.postgres.external.existingSecretKey }}
{{- else -}}
name: {{ include "tessera.fullname" . }}-database
key: DATABASE_URL
{{- end -}}
{{- end -}}

{{/* Where DATABASE_URL lives for the migration hooks, which run before the release's own Secret exists. */}}
{{- define "tessera.migrationDatabaseSecret" -}}
{{- if and (eq .Values.postgres.mode "external") (not .Values.postgres.external.existingSecret) -}}
name: {{ include "tessera.fullname" . }}-migrate-database
key: DATABASE_URL
{{- else -}}
{{ include "tessera.databaseSecret" . }}
{{- end -}}
{{- end -}}

{{- define "tessera.natsUrl" -}}
{{- if eq .Values.nats.mode "bundled" -}}
{{- printf "nats://%s-nats:4222" (include "tessera.fullname" .) -}}
{{- else -}}
{{- .Values.nats.external.url -}}
{{- end -}}
{{- end -}}

{{- define "tessera.authSecretName" -}}
{{- default (printf "%s-bootstrap-keys" (include "tessera.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}

{{/* Shared, non-secret settings of every service (the ConfigMap <fullname>-config). */}}
{{- define "tessera.configData" -}}
NATS_URL: {{ include "tessera.natsUrl" . | quote }}
BUS_NAMESPACE: {{ .Values.config.busNamespace | quote }}
LOG_LEVEL: {{ .Values.config.logLevel | quote }}
# The pre-install/pre-upgrade Jobs migrate; a pod never migrates on its own.
MIGRATE_ON_START: "false"
{{- with .Values.otel.endpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ . | quote }}
{{- end }}
{{- end -}}

{{- define "tessera.checks" -}}
{{- if and (eq .Values.postgres.mode "external") (not .Values.postgres.external.url) (not .Values.postgres.external.existingSecret) -}}
{{- fail "postgres.mode is external: set postgres.external.url or postgres.external.existingSecret (or postgres.mode=bundled for an evaluation install)" -}}
{{- end -}}
{{- if and (eq .Values.nats.mode "external") (not .Values.nats.external.url) -}}
{{- fail "nats.mode is external: set nats.external.url, e.g. nats://nats.nats:4222 (or nats.mode=bundled for an evaluation install)" -}}
{{- end -}}
{{- if eq (len (include "tessera.enabledServices" . | fromYamlArray)) 0 -}}
{{- fail "no service is enabled: set services.<name>.enabled=true for at least one of crm, ingestion, segmentation, journeys, messaging, analytics" -}}
{{- end -}}
{{- range $svc := include "tessera.enabledServices" . | fromYamlArray -}}
{{- $v := include "tessera.serviceValues" (dict "root" $ "svc" $svc) | fromYaml -}}
{{- if and $v.autoscaling.enabled (gt (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas)) -}}
{{- fail (printf "services.%s.autoscaling: minReplicas (%d) is greater than maxReplicas (%d)" $svc (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
