// Page scaffolding: a title bar with toolbar items, and the loading / error states every page shares.

import { Alert, Content, PageSection, Spinner, Title } from '@patternfly/react-core';
import type { ReactNode } from 'react';

export function PageHeader({ title, children, subtitle }: { title: ReactNode; children?: ReactNode; subtitle?: ReactNode }) {
  return (
    <PageSection className="trellis-page-header">
      <div className="trellis-page-header__row">
        <div>
          <Title headingLevel="h1" data-test="page-title">
            {title}
          </Title>
          {subtitle ? <Content component="small">{subtitle}</Content> : null}
        </div>
        <div className="trellis-toolbar">{children}</div>
      </div>
    </PageSection>
  );
}

export function Loading({ error, loading, children }: { error?: Error | undefined; loading: boolean; children: ReactNode | (() => ReactNode) }) {
  return (
    <>
      {error ? <Alert variant="danger" isInline title={error.message} style={{ marginBottom: 12 }} /> : null}
      {typeof children === 'function' ? children() : children}
      {loading && !error ? <Spinner size="md" aria-label="Loading" className="trellis-spinner" /> : null}
    </>
  );
}

export function MetricsWarning({ message }: { message?: string | undefined }) {
  if (!message) return null;
  return <Alert variant="warning" isInline isPlain title={`Health and traffic unavailable: ${message}`} style={{ marginBottom: 12 }} data-test="metrics-warning" />;
}
