/**
 * The Kubernetes manifests under deploy/kubernetes, read as a cluster would read them and checked
 * against what the image and the service actually do: every variable is one the service reads
 * and its value loads without a problem, the probes hit routes that answer, the user and port are
 * the Dockerfile's, the KEK file variable points into the mounted Secret, and every Secret key
 * and named port referenced exists. No cluster runs here; this keeps the files from drifting.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { KEK_ENV, KEK_FILE_ENV } from '../../src/secrets/kek.js';
import { testServices } from '../helpers/service.js';

const root = join(import.meta.dirname, '..', '..');
const dir = join(root, 'deploy', 'kubernetes');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const service = testServices();

// What the service reads besides AUTH__* (src/secrets/kek.ts, src/auth/admin-env.ts, src/config/env.ts).
const OTHER_VARIABLES = new Set([
  KEK_ENV,
  KEK_FILE_ENV,
  'DATABASE_URL',
  'MERO_AUTH_ADMIN_USER',
  'MERO_AUTH_ADMIN_PASSWORD',
  'MERO_AUTH_ADMIN_PASSWORD_FILE',
]);

// Manifests are untyped YAML, walked by field name.
type Doc = any;
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

function documents(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(join(dir, file), 'utf8'));
  for (const d of docs) expect(d.errors, `${file}: YAML errors`).toEqual([]);
  return docs.map((d) => d.toJS());
}

const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
const workloads = files.flatMap((file) =>
  documents(file)
    .filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet')
    .map((d) => ({ file, doc: d, pod: d.spec.template.spec, container: d.spec.template.spec.containers[0] })),
);
const dockerEnv = (name: string): string | undefined => new RegExp(`${name}=(\\S+)`).exec(dockerfile)?.[1];

describe('deploy/kubernetes manifests', () => {
  it('hold both layouts: several instances on PostgreSQL, and one on its own LevelDB volume', () => {
    expect(workloads.map((w) => `${w.file}: ${w.doc.kind} ×${w.doc.spec.replicas}`).sort()).toEqual([
      'mero-auth-ha.yaml: Deployment ×2',
      'mero-auth-single.yaml: StatefulSet ×1',
    ]);
  });

  describe.each(workloads.map((w) => [w.file, w] as const))('%s', (_file, { file, pod, container }) => {
    const env = container.env as EnvVar[];
    const secrets = files.flatMap((f) => documents(f)).filter((d) => d.kind === 'Secret');

    it('sets only variables the service reads, and their values load without a problem', () => {
      for (const v of env) {
        expect(v.name.startsWith('AUTH__') || OTHER_VARIABLES.has(v.name), `${file}: ${v.name} is read by nothing`).toBe(true);
      }
      const literal = Object.fromEntries(env.filter((v) => v.value !== undefined).map((v) => [v.name, v.value]));
      // The image's own ENV lines apply too; a secret's value is a stand-in of the right shape.
      const fromSecrets = Object.fromEntries(
        env.filter((v) => v.valueFrom?.secretKeyRef).map((v) => [v.name, 'postgres://u:p@db:5432/mero_auth']),
      );
      const image = { AUTH__LISTEN_ADDR: dockerEnv('AUTH__LISTEN_ADDR'), AUTH__STORAGE__PATH: dockerEnv('AUTH__STORAGE__PATH') };
      const { warnings } = loadConfig({ env: { ...image, ...literal, ...fromSecrets } });
      expect(warnings).toEqual([]);
    });

    it('takes the KEK from a file inside the mounted Secret, never from a variable or the data volume', () => {
      expect(env.some((v) => v.name === KEK_ENV)).toBe(false);
      const kekFile = env.find((v) => v.name === KEK_FILE_ENV)?.value;
      const mount = container.volumeMounts.find((m: Doc) => kekFile?.startsWith(`${m.mountPath}/`));
      expect(mount, `${KEK_FILE_ENV}=${kekFile} is on no mount`).toBeDefined();
      expect(mount.readOnly).toBe(true);
      expect(mount.mountPath.startsWith('/data')).toBe(false);
      const volume = pod.volumes.find((v: Doc) => v.name === mount.name);
      const item = volume.secret.items.find((i: Doc) => `${mount.mountPath}/${i.path}` === kekFile);
      expect(item, 'the Secret item that becomes the KEK file').toBeDefined();
      // Readable by the pod's group (fsGroup), by nobody else.
      expect(volume.secret.defaultMode).toBe(0o440);
      expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsGroup);
      for (const s of secrets.filter((s) => s.metadata.name === volume.secret.secretName)) {
        expect(Object.keys({ ...s.data, ...s.stringData })).toContain(item.key);
      }
    });

    it("runs as the image's user, on the image's port, without privileges", () => {
      const uid = Number(/useradd [^\n]*--uid (\d+)/.exec(dockerfile)?.[1]);
      expect(pod.securityContext.runAsUser).toBe(uid);
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(container.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      const port = Number(dockerEnv('AUTH__LISTEN_ADDR')?.split(':').at(-1));
      expect(container.ports).toEqual([{ name: 'http', containerPort: port }]);
      // The image's VOLUME /data is mounted (a writable place under a read-only root).
      expect(container.volumeMounts.map((m: Doc) => m.mountPath)).toContain('/data');
    });

    it('probes liveness on /auth/health and readiness on /auth/ready, and both answer 200', async () => {
      expect(container.livenessProbe.httpGet).toEqual({ path: '/auth/health', port: 'http' });
      expect(container.startupProbe.httpGet).toEqual({ path: '/auth/health', port: 'http' });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/auth/ready', port: 'http' });
      const s = await service();
      for (const probe of [container.livenessProbe, container.readinessProbe]) {
        expect((await s.request(probe.httpGet.path)).status, probe.httpGet.path).toBe(200);
      }
    });

    it('has a Service whose selector matches the pods and whose target is the named port', () => {
      const labels = workloads.find((w) => w.file === file)?.doc.spec.template.metadata.labels;
      const svc = documents(file).find((d) => d.kind === 'Service');
      expect(svc.spec.selector).toEqual(labels);
      expect(svc.spec.ports[0].targetPort).toBe('http');
    });
  });

  it('the PostgreSQL Deployment reads its database from the Secret and keeps one instance up during disruptions', () => {
    const ha = workloads.find((w) => w.file === 'mero-auth-ha.yaml');
    const env = ha?.container.env as EnvVar[];
    expect(env.find((v) => v.name === 'AUTH__STORAGE__TYPE')?.value).toBe('postgres');
    expect(env.find((v) => v.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
      name: 'mero-auth',
      key: 'database-url',
    });
    const pdb = documents('mero-auth-ha.yaml').find((d) => d.kind === 'PodDisruptionBudget');
    expect(pdb.spec).toEqual({ minAvailable: 1, selector: { matchLabels: ha?.doc.spec.selector.matchLabels } });
  });
});
