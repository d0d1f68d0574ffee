import { expect } from 'chai';
import { buildProbePod, probePodName } from '../../../src/probe/probe-pod.js';
import { classifyProbePod } from '../../../src/probe/probe-run.js';
import type { Pod } from '../../../src/kube/cluster-api.js';

describe('buildProbePod', () => {
  it('builds the whole privileged, self-ending, labelled probe pod', () => {
    const pod = buildProbePod({
      nodeName: 'lab-node-1',
      namespace: 'netdiag',
      image: 'registry.local/netshoot:v0.13',
      runId: 'abcde12345',
      nameSuffix: 'x7k2p',
      lifetimeSeconds: 180,
      imagePullSecrets: ['regcred'],
      command: 'veth-peer',
      nodeScript: '#!/bin/sh\necho gather\n',
    });
    expect(pod).to.deep.equal({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'netdiag-lab-node-1-x7k2p',
        namespace: 'netdiag',
        labels: { 'app.kubernetes.io/managed-by': 'kubectl-netdiag', 'kubectl-netdiag.io/run-id': 'abcde12345' },
        annotations: {
          'kubectl-netdiag.io/node': 'lab-node-1',
          'kubectl-netdiag.io/command': 'veth-peer',
          'kubectl-netdiag.io/purpose': 'short-lived network diagnostics probe; safe to delete',
        },
      },
      spec: {
        nodeName: 'lab-node-1',
        hostNetwork: true,
        hostPID: true,
        dnsPolicy: 'ClusterFirstWithHostNet',
        restartPolicy: 'Never',
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        terminationGracePeriodSeconds: 0,
        activeDeadlineSeconds: 210,
        tolerations: [{ operator: 'Exists' }],
        imagePullSecrets: [{ name: 'regcred' }],
        containers: [
          {
            name: 'probe',
            image: 'registry.local/netshoot:v0.13',
            imagePullPolicy: 'IfNotPresent',
            command: ['sleep', '180'],
            env: [{ name: 'NETDIAG_SCRIPT', value: '#!/bin/sh\necho gather\n' }],
            securityContext: { privileged: true, readOnlyRootFilesystem: true, runAsUser: 0 },
            resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          },
        ],
        volumes: [{ name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }],
      },
    });
  });

  it('keeps names within 63 characters and DNS-safe for long node names', () => {
    const name = probePodName('ip-10-0-12-34.eu-west-1.compute.internal.very-long-suffix-here', 'abcde');
    expect(name.length).to.be.at.most(63);
    expect(name).to.match(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(name.endsWith('-abcde')).to.equal(true);
  });
});

describe('classifyProbePod', () => {
  const pod = (status: Pod['status']): Pod => ({ metadata: { name: 'netdiag-n1-abcde' }, spec: { nodeName: 'n1', containers: [] }, status });
  it('fails fast on image pull errors, naming the image and the --image fix', () => {
    const v = classifyProbePod(pod({ phase: 'Pending', containerStatuses: [{ name: 'probe', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' } } }] }), 'x');
    expect(v.kind).to.equal('failed');
    if (v.kind === 'failed') {
      expect(v.reason).to.contain('cannot pull the probe image x');
      expect(v.hint).to.contain('--image');
    }
  });
  it('waits while unscheduled and says why', () => {
    const v = classifyProbePod(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' }] }), 'x');
    expect(v).to.deep.equal({ kind: 'waiting', state: 'not scheduled: 0/3 nodes are available' });
  });
  it('is running only when the probe container runs', () => {
    expect(classifyProbePod(pod({ phase: 'Running', containerStatuses: [{ name: 'probe', image: 'x', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] }), 'x').kind).to.equal('running');
    expect(classifyProbePod(pod({ phase: 'Failed', reason: 'DeadlineExceeded' }), 'x').kind).to.equal('failed');
  });
});
