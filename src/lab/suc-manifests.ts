/**
 * A system-upgrade-controller release's manifests as the lab hands them out (what
 * `crd.yaml` and `system-upgrade-controller.yaml` of a SUC GitHub release hold, cut to the
 * objects and fields the lab's kubectl reads): the Plan CRD, the `system-upgrade` namespace,
 * its service account and cluster role binding, the controller's ConfigMap and Deployment
 * with the release's image. `pve-k3s suc install --file` applies them on a lab.
 */
import { LAB_SUC_VERSION } from './suc-controller.js';

export function sucReleaseManifests(version = LAB_SUC_VERSION): string {
  return `# system-upgrade-controller ${version} (as the pve-k3s lab models it)
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: plans.upgrade.cattle.io
spec:
  group: upgrade.cattle.io
  names: { kind: Plan, plural: plans, singular: plan }
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
---
apiVersion: v1
kind: Namespace
metadata:
  name: system-upgrade
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: system-upgrade
  namespace: system-upgrade
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system-upgrade
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }
subjects:
  - { kind: ServiceAccount, name: system-upgrade, namespace: system-upgrade }
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: default-controller-env
  namespace: system-upgrade
data:
  SYSTEM_UPGRADE_JOB_ACTIVE_DEADLINE_SECONDS: "900"
  SYSTEM_UPGRADE_JOB_BACKOFF_LIMIT: "2"
  SYSTEM_UPGRADE_JOB_TTL_SECONDS_AFTER_FINISH: "900"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: system-upgrade-controller
  namespace: system-upgrade
spec:
  replicas: 1
  selector:
    matchLabels: { upgrade.cattle.io/controller: system-upgrade-controller }
  template:
    metadata:
      labels: { upgrade.cattle.io/controller: system-upgrade-controller }
    spec:
      serviceAccountName: system-upgrade
      containers:
        - name: system-upgrade-controller
          image: rancher/system-upgrade-controller:${version}
`;
}
