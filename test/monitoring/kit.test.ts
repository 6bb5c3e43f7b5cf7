/**
 * The monitoring kit: the rules pass `promtool check rules` and behave as promtool's own rule
 * unit tests say, the PrometheusRule carries the same groups, the scrape config passes
 * `promtool check config`, and the dashboard is valid JSON whose every expression is valid
 * PromQL naming only metrics pve-k3s exports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { exportMonitoring, FILES } from '../../src/monitoring/export.js';
import { alertRules } from '../../src/monitoring/rules.js';
import { METRIC_NAMES, renderMetrics } from '../../src/status/metrics.js';
import { assessHealth } from '../../src/status/cluster-health.js';
import { facts } from '../helpers/facts.js';

function promtool(args: string[], cwd?: string) {
  const r = spawnSync('promtool', args, { encoding: 'utf8', ...(cwd ? { cwd } : {}) });
  assert.equal(r.error, undefined, 'promtool must be installed (Debian package prometheus)');
  return r;
}

async function withKit(fn: (dir: string) => void | Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'pve-k3s-kit-'));
  try {
    await exportMonitoring({ out: dir });
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The alert's annotations with its labels (and value) filled in, as Prometheus templates them. */
function fired(alert: string, labels: Record<string, string>, value = '') {
  const rule = alertRules().find((r) => r.alert === alert);
  assert.ok(rule, alert);
  const fill = (t: string) =>
    t.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, k: string) => labels[k] ?? '').replace(/\{\{ \$value \}\}/g, value);
  return {
    exp_labels: { severity: rule.labels.severity, ...labels },
    exp_annotations: { summary: fill(rule.annotations.summary), description: fill(rule.annotations.description) },
  };
}

const metricsIn = (expr: string) => [...expr.matchAll(/\bpve_k3s_[a-z0-9_]+/g)].map((m) => m[0]);

test('GIVEN the exported rules file WHEN promtool checks it THEN every rule is valid', async () => {
  await withKit((dir) => {
    const r = promtool(['check', 'rules', join(dir, FILES.rules)]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`SUCCESS: ${alertRules().length} rules found`));
  });
});

test('GIVEN the PrometheusRule object WHEN its spec is checked by promtool THEN it holds the same groups as the rules file', async () => {
  await withKit((dir) => {
    const obj = parse(readFileSync(join(dir, FILES.prometheusRule), 'utf8'));
    assert.equal(obj.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(obj.kind, 'PrometheusRule');
    assert.equal(obj.metadata.namespace, 'monitoring');
    assert.deepEqual(obj.spec, parse(readFileSync(join(dir, FILES.rules), 'utf8')));
    writeFileSync(join(dir, 'spec.yml'), stringify(obj.spec));
    assert.equal(promtool(['check', 'rules', join(dir, 'spec.yml')]).status, 0);
  });
});

test('GIVEN the scrape config WHEN promtool checks it as a prometheus.yml THEN it and its rules file pass', async () => {
  await withKit((dir) => {
    const r = promtool(['check', 'config', join(dir, FILES.scrape)]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const cfg = parse(readFileSync(join(dir, FILES.scrape), 'utf8'));
    assert.deepEqual(cfg.scrape_configs[0].static_configs, [{ targets: ['127.0.0.1:9480'] }]);
  });
});

test('GIVEN every rule WHEN its expression is read THEN it names only metrics pve-k3s exports', () => {
  for (const r of alertRules()) {
    const names = metricsIn(r.expr);
    assert.ok(names.length > 0 || r.expr.startsWith('up{'), r.alert);
    for (const n of names) assert.ok((METRIC_NAMES as readonly string[]).includes(n), `${r.alert}: ${n}`);
  }
});

test('GIVEN series WHEN promtool runs the rule unit tests THEN each alert fires exactly when it should', async () => {
  await withKit((dir) => {
    const day = 86400;
    const tests = {
      rule_files: [FILES.rules],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: 'pve_k3s_node_ready{cluster="lab",node="w1"}', values: '1 1 0x20' },
            { series: 'pve_k3s_node_up{cluster="lab",node="w1"}', values: '1x22' },
            { series: 'pve_k3s_node_cordoned_by_pve_k3s{cluster="lab",node="w2"}', values: '1x90' },
          ],
          alert_rule_test: [
            { eval_time: '5m', alertname: 'PveK3sNodeNotReady', exp_alerts: [] },
            {
              eval_time: '8m',
              alertname: 'PveK3sNodeNotReady',
              exp_alerts: [
                {
                  exp_labels: { severity: 'critical', cluster: 'lab', node: 'w1' },
                  exp_annotations: {
                    summary: 'node w1 is NotReady',
                    description: 'Its container runs but Kubernetes has not seen w1 Ready for 5 minutes (pve-k3s doctor w1).',
                  },
                },
              ],
            },
            { eval_time: '50m', alertname: 'PveK3sNodeCordonedByUpgrade', exp_alerts: [] },
            {
              eval_time: '61m',
              alertname: 'PveK3sNodeCordonedByUpgrade',
              exp_alerts: [fired('PveK3sNodeCordonedByUpgrade', { cluster: 'lab', node: 'w2' })],
            },
          ],
        },
        {
          // A daily schedule; the last good backup at t=0 (Unix 0): 2 days later is 2 runs missed.
          interval: '1h',
          input_series: [
            { series: 'pve_k3s_backup_last_success_timestamp_seconds{cluster="lab"}', values: '0x120' },
            { series: 'pve_k3s_backup_schedule_interval_seconds{cluster="lab"}', values: `${day}x120` },
            { series: 'pve_k3s_backup_last_run_success{cluster="lab"}', values: '1x50 0x70' },
          ],
          alert_rule_test: [
            { eval_time: '47h', alertname: 'PveK3sBackupTooOld', exp_alerts: [] },
            { eval_time: '49h', alertname: 'PveK3sBackupTooOld', exp_alerts: [fired('PveK3sBackupTooOld', { cluster: 'lab' })] },
            { eval_time: '49h', alertname: 'PveK3sBackupTooOldCritical', exp_alerts: [] },
            {
              eval_time: '97h',
              alertname: 'PveK3sBackupTooOldCritical',
              exp_alerts: [fired('PveK3sBackupTooOldCritical', { cluster: 'lab' })],
            },
            { eval_time: '49h', alertname: 'PveK3sBackupFailed', exp_alerts: [] },
            { eval_time: '52h', alertname: 'PveK3sBackupFailed', exp_alerts: [fired('PveK3sBackupFailed', { cluster: 'lab' })] },
            { eval_time: '49h', alertname: 'PveK3sBackupMissing', exp_alerts: [] },
          ],
        },
        {
          // Samples closer than the 5m lookback, as a 1m scrape gives: the upgrade ends at 50m.
          interval: '1m',
          input_series: [
            { series: 'pve_k3s_node_info{cluster="lab",node="a",kubelet="v1.33.3+k3s1"}', values: '1x300' },
            { series: 'pve_k3s_node_info{cluster="lab",node="b",kubelet="v1.33.5+k3s1"}', values: '1x300' },
            { series: 'pve_k3s_upgrade_in_progress{cluster="lab"}', values: '1x50 0x250' },
          ],
          alert_rule_test: [
            { eval_time: '50m', alertname: 'PveK3sVersionSkew', exp_alerts: [] },
            { eval_time: '75m', alertname: 'PveK3sVersionSkew', exp_alerts: [] },
            { eval_time: '100m', alertname: 'PveK3sVersionSkew', exp_alerts: [fired('PveK3sVersionSkew', { cluster: 'lab' }, '2')] },
          ],
        },
        {
          interval: '1h',
          input_series: [
            {
              series: 'pve_k3s_cert_expiry_timestamp_seconds{cluster="lab",node="s1",cert="serving-kube-apiserver.crt"}',
              values: `${40 * day}x48`,
            },
          ],
          alert_rule_test: [{ eval_time: '2h', alertname: 'PveK3sCertificateExpiring', exp_alerts: [] }],
        },
      ],
    };
    writeFileSync(join(dir, 'tests.yml'), stringify(tests));
    const r = promtool(['test', 'rules', 'tests.yml'], dir);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});

test('GIVEN the dashboard WHEN read THEN it is valid JSON, its panels are distinct, and every expression is PromQL naming exported metrics', async () => {
  await withKit((dir) => {
    const d = JSON.parse(readFileSync(join(dir, FILES.dashboard), 'utf8'));
    assert.equal(d.uid, 'pve-k3s');
    assert.equal(typeof d.schemaVersion, 'number');
    const ids = d.panels.map((p: { id: number }) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    const exprs: string[] = d.panels.flatMap((p: { targets: Array<{ expr: string }> }) => p.targets.map((t) => t.expr));
    assert.ok(exprs.length >= 15);
    const used = new Set<string>();
    for (const e of exprs) {
      const names = metricsIn(e);
      assert.ok(names.length > 0, e);
      for (const n of names) {
        assert.ok((METRIC_NAMES as readonly string[]).includes(n), `${e}: ${n}`);
        used.add(n);
      }
    }
    // Valid PromQL: promtool parses each one as a recording rule (the $cluster variable filled in).
    const rules = {
      groups: [{ name: 'dashboard', rules: exprs.map((e, i) => ({ record: `dashboard:expr${i}`, expr: e.replace(/\$cluster/g, 'lab') })) }],
    };
    writeFileSync(join(dir, 'dash-rules.yml'), stringify(rules));
    const r = promtool(['check', 'rules', join(dir, 'dash-rules.yml')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.ok(used.has('pve_k3s_backup_last_success_timestamp_seconds') && used.has('pve_k3s_backup_last_size_bytes'));
  });
});

test('GIVEN a cluster with a backup schedule and readable certificates WHEN metrics are rendered THEN every metric the kit names is exported', () => {
  const f = facts([{ name: 's1', role: 'server', version: 'v1.33.3+k3s1', cordonedByUs: 'v1.33.5+k3s1' }]);
  const now = Date.UTC(2026, 11, 1);
  const health = assessHealth({
    facts: f,
    backup: {
      lastSuccess: now - 3600_000,
      lastSizeBytes: 1234,
      lastRun: { at: now - 3600_000, ok: true, error: undefined },
      schedule: {
        every: 'daily',
        onCalendar: '*-*-* 00:00:00 UTC',
        on: 'local',
        intervalMs: 86_400_000,
        next: now + 86_400_000,
        backupRoot: '/b',
        installedAt: now - 86_400_000,
        retention: 'last 7',
      },
      readError: undefined,
    },
    upgrade: {
      inProgress: false,
      interrupted: false,
      run: undefined,
      operation: undefined,
      target: undefined,
      startedAt: undefined,
      status: undefined,
      cordonedByUs: [],
    },
    now,
  });
  const text = renderMetrics({
    facts: f,
    health,
    target: 'v1.33.5+k3s1',
    probeSeconds: 0.1,
    certs: [{ node: 's1', cert: 'serving-kube-apiserver.crt', notAfter: now + 86_400_000 * 300 }],
  });
  const families = new Set([...text.matchAll(/^# TYPE (\S+) gauge$/gm)].map((m) => m[1]));
  assert.deepEqual(
    [...METRIC_NAMES].filter((n) => !families.has(n)),
    [],
  );
  assert.match(text, /^pve_k3s_backup_last_size_bytes\{cluster="test"\} 1234$/m);
  assert.match(
    text,
    /^pve_k3s_backup_schedule_info\{cluster="test",every="daily",on_calendar="\*-\*-\* 00:00:00 UTC",on="local",retention="last 7"\} 1$/m,
  );
});
