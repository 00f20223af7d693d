// Small status pieces used everywhere: health and validation icons, the mTLS label, number formats.

import { Label, Tooltip } from '@patternfly/react-core';
import CheckCircleIcon from '@patternfly/react-icons/dist/esm/icons/check-circle-icon';
import ExclamationCircleIcon from '@patternfly/react-icons/dist/esm/icons/exclamation-circle-icon';
import ExclamationTriangleIcon from '@patternfly/react-icons/dist/esm/icons/exclamation-triangle-icon';
import InfoCircleIcon from '@patternfly/react-icons/dist/esm/icons/info-circle-icon';
import LockIcon from '@patternfly/react-icons/dist/esm/icons/lock-icon';
import LockOpenIcon from '@patternfly/react-icons/dist/esm/icons/lock-open-icon';
import MinusCircleIcon from '@patternfly/react-icons/dist/esm/icons/minus-circle-icon';
import type { HealthStatus, OverviewItem, Validation } from '../types';

export const COLORS = {
  success: 'var(--pf-t--global--icon--color--status--success--default)',
  warning: 'var(--pf-t--global--icon--color--status--warning--default)',
  danger: 'var(--pf-t--global--icon--color--status--danger--default)',
  info: 'var(--pf-t--global--icon--color--status--info--default)',
  muted: 'var(--pf-t--global--icon--color--subtle)',
};

const HEALTH: Record<HealthStatus, { icon: typeof CheckCircleIcon; color: string; text: string }> = {
  Healthy: { icon: CheckCircleIcon, color: COLORS.success, text: 'Healthy' },
  Degraded: { icon: ExclamationTriangleIcon, color: COLORS.warning, text: 'Degraded' },
  Failure: { icon: ExclamationCircleIcon, color: COLORS.danger, text: 'Failure' },
  NA: { icon: MinusCircleIcon, color: COLORS.muted, text: 'No health information' },
};

export function HealthIcon({ status, reason, withText }: { status: HealthStatus; reason?: string; withText?: boolean }) {
  const h = HEALTH[status];
  const Icon = h.icon;
  const icon = <Icon color={h.color} data-test={`health-${status}`} aria-label={h.text} />;
  return (
    <Tooltip content={reason ? `${h.text}: ${reason}` : h.text}>
      <span className="trellis-health">
        {icon}
        {withText ? <span style={{ marginLeft: 6 }}>{h.text}</span> : null}
      </span>
    </Tooltip>
  );
}

export function ValidationIcon({ status }: { status: Validation['level'] | 'Valid' }) {
  if (status === 'Error') return <ExclamationCircleIcon color={COLORS.danger} aria-label="Error" data-test="validation-Error" />;
  if (status === 'Warning') return <ExclamationTriangleIcon color={COLORS.warning} aria-label="Warning" data-test="validation-Warning" />;
  if (status === 'Info') return <InfoCircleIcon color={COLORS.info} aria-label="Info" data-test="validation-Info" />;
  return <CheckCircleIcon color={COLORS.success} aria-label="Valid" data-test="validation-Valid" />;
}

export function MtlsLabel({ mtls, percent }: { mtls: OverviewItem['mtls']; percent?: number | undefined }) {
  const text = { enabled: 'mTLS enabled', permissive: 'mTLS permissive', disabled: 'mTLS disabled', auto: 'auto mTLS' }[mtls.status];
  const locked = mtls.status === 'enabled' || (percent !== undefined && percent > 0);
  const color = mtls.status === 'enabled' ? 'green' : mtls.status === 'disabled' ? 'red' : 'blue';
  return (
    <Tooltip content={`${text} (${mtls.source} setting)${percent !== undefined ? `; ${percent.toFixed(0)}% of inbound requests were mutual TLS` : ''}`}>
      <Label color={color} icon={locked ? <LockIcon /> : <LockOpenIcon />} data-test="mtls-status">
        {text}
        {percent !== undefined ? ` · ${percent.toFixed(0)}% of traffic` : ''}
      </Label>
    </Tooltip>
  );
}

export function formatRps(v: number): string {
  if (!(v > 0)) return '0 rps';
  return v >= 100 ? `${v.toFixed(0)} rps` : v >= 10 ? `${v.toFixed(1)} rps` : `${v.toFixed(2)} rps`;
}

export function formatMs(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  return v >= 1000 ? `${(v / 1000).toFixed(2)}s` : v >= 10 ? `${v.toFixed(0)}ms` : `${v.toFixed(1)}ms`;
}

export function formatBytes(v: number): string {
  if (!(v > 0)) return '0 B/s';
  const units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s'];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 10 ? 0 : 1)} ${units[i]}`;
}

export function formatPercent(v: number): string {
  return v === 0 ? '0%' : v < 0.1 ? '<0.1%' : v < 10 ? `${v.toFixed(1)}%` : `${v.toFixed(0)}%`;
}

export function errorPercent(r: { total: number; err4xx: number; err5xx: number; grpcErr: number }): number {
  return r.total > 0 ? ((r.err4xx + r.err5xx + r.grpcErr) / r.total) * 100 : 0;
}
