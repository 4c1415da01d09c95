{{/*
Names. fullname is the prefix of every object: the release name when it
already contains the chart name, else release-chart; at most 63 characters.
*/}}
{{- define "ironlb.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ironlb.fullname" -}}
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

{{- define "ironlb.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride -}}
{{- end -}}

{{- define "ironlb.controller.serviceAccountName" -}}
{{- default (printf "%s-controller" (include "ironlb.fullname" .)) .Values.controller.serviceAccount.name -}}
{{- end -}}

{{- define "ironlb.speaker.serviceAccountName" -}}
{{- default (printf "%s-speaker" (include "ironlb.fullname" .)) .Values.speaker.serviceAccount.name -}}
{{- end -}}

{{- define "ironlb.webhook.serviceName" -}}
{{- printf "%s-webhook" (include "ironlb.fullname" .) -}}
{{- end -}}

{{- define "ironlb.webhook.configName" -}}
{{- printf "%s-webhook" (include "ironlb.fullname" .) -}}
{{- end -}}

{{- define "ironlb.webhook.secretName" -}}
{{- printf "%s-webhook-cert" (include "ironlb.fullname" .) -}}
{{- end -}}

{{- define "ironlb.webhook.certificateName" -}}
{{- printf "%s-webhook" (include "ironlb.fullname" .) -}}
{{- end -}}

{{- define "ironlb.memberlist.secretName" -}}
{{- default (printf "%s-memberlist" (include "ironlb.fullname" .)) .Values.speaker.memberlist.secretName -}}
{{- end -}}

{{- define "ironlb.frr.configMapName" -}}
{{- printf "%s-frr-startup" (include "ironlb.fullname" .) -}}
{{- end -}}

{{/* The leader election Lease; must match `ironlb controller`. */}}
{{- define "ironlb.controller.leaseName" -}}
ironlb-controller.metallb.io
{{- end -}}

{{/*
Labels. Selector labels never change across upgrades (a Deployment's
selector is immutable); the component tells controller and speaker apart.
*/}}
{{- define "ironlb.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "ironlb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "ironlb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ironlb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ironlb.controller.selectorLabels" -}}
{{ include "ironlb.selectorLabels" . }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "ironlb.speaker.selectorLabels" -}}
{{ include "ironlb.selectorLabels" . }}
app.kubernetes.io/component: speaker
{{- end -}}

{{/* Images: a digest, when given, replaces the tag. */}}
{{- define "ironlb.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "ironlb.frr.image" -}}
{{- if .Values.frr.image.digest -}}
{{- printf "%s@%s" .Values.frr.image.repository .Values.frr.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.frr.image.repository .Values.frr.image.tag -}}
{{- end -}}
{{- end -}}

{{/* The metallb.io kinds users configure (read by both components). */}}
{{- define "ironlb.configResources" -}}
- ipaddresspools
- bgppeers
- bgpadvertisements
- l2advertisements
- bfdprofiles
- communities
{{- end -}}

{{/* Paths shared by the speaker's containers. */}}
{{- define "ironlb.frr.agentSocket" -}}
/var/run/ironlb/frr-agent.sock
{{- end -}}

{{/* The controller's certificate folder (controller-runtime's default). */}}
{{- define "ironlb.controller.certDir" -}}
/tmp/k8s-webhook-server/serving-certs
{{- end -}}
