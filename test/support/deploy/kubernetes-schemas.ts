/**
 * Validates a rendered object against the Kubernetes OpenAPI schema of its kind (the
 * kubernetes-models package; the Prometheus operator's CRDs for ServiceMonitor). A kind this file
 * does not know fails: a new kind in deploy/ needs its schema here.
 */
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import type { KubernetesObject } from './kustomize';

interface Model {
  apiVersion: string;
  kind: string;
  new (data: never): { validate(): void };
}

const MODELS: Model[] = [
  ConfigMap,
  Deployment,
  HorizontalPodAutoscaler,
  Job,
  PodDisruptionBudget,
  Service,
  ServiceMonitor,
];

/** Throws with the schema's messages when `object` is not a valid instance of its kind. */
export function validateAgainstSchema(object: KubernetesObject): void {
  const model = MODELS.find((m) => m.apiVersion === object.apiVersion && m.kind === object.kind);
  if (!model) throw new Error(`No schema here for ${object.apiVersion} ${object.kind}`);
  new model(object as never).validate();
}
