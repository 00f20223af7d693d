// The console's shell: masthead, navigation, the page for the URL, and the login gate when a token is required.

import { Button, Masthead, MastheadBrand, MastheadContent, MastheadLogo, MastheadMain, MastheadToggle, Nav, NavItem, NavList, Page, PageSidebar, PageSidebarBody, PageToggleButton, Label, Spinner } from '@patternfly/react-core';
import BarsIcon from '@patternfly/react-icons/dist/esm/icons/bars-icon';
import { api } from './api';
import { StatusContext } from './context';
import { useData } from './hooks';
import { ConfigCreatePage, ConfigDetailPage, ConfigListPage } from './pages/config';
import { ControlPlanePage } from './pages/control-plane';
import { AppPage, ServicePage, WorkloadPage } from './pages/details';
import { GraphPage } from './pages/graph';
import { K8sGatewayCreatePage } from './pages/k8s-gateway-form';
import { ListPage } from './pages/lists';
import { LoginPage } from './pages/login';
import { OverviewPage } from './pages/overview';
import { linkProps, matchPath, navigate, useLocation } from './router';

const NAV = [
  { path: '/overview', label: 'Overview' },
  { path: '/graph', label: 'Traffic Graph' },
  { path: '/applications', label: 'Applications' },
  { path: '/workloads', label: 'Workloads' },
  { path: '/services', label: 'Services' },
  { path: '/istio', label: 'Istio Config' },
  { path: '/controlplane', label: 'Control Plane' },
];

function Routes({ path }: { path: string }) {
  let m: Record<string, string> | undefined;
  if ((m = matchPath('/namespaces/:ns/applications/:name', path))) return <AppPage key={path} namespace={m.ns!} name={m.name!} />;
  if ((m = matchPath('/namespaces/:ns/workloads/:name', path))) return <WorkloadPage key={path} namespace={m.ns!} name={m.name!} />;
  if ((m = matchPath('/namespaces/:ns/services/:name', path))) return <ServicePage key={path} namespace={m.ns!} name={m.name!} />;
  if ((m = matchPath('/namespaces/:ns/istio/:group/:kind/:name', path))) return <ConfigDetailPage key={path} target={{ namespace: m.ns!, group: m.group!, kind: m.kind!, name: m.name! }} />;
  switch (path) {
    case '/graph':
      return <GraphPage />;
    case '/applications':
      return <ListPage key="applications" kind="applications" />;
    case '/workloads':
      return <ListPage key="workloads" kind="workloads" />;
    case '/services':
      return <ListPage key="services" kind="services" />;
    case '/istio':
      return <ConfigListPage />;
    case '/istio/new':
      return <ConfigCreatePage />;
    case '/istio/new/k8s-gateway':
      return <K8sGatewayCreatePage />;
    case '/controlplane':
      return <ControlPlanePage />;
    default:
      return <OverviewPage />;
  }
}

export function App() {
  const { path } = useLocation();
  const status = useData(() => api.status(), []);
  if (!status.data) return status.error ? <p style={{ padding: 24 }}>The console API is not reachable: {status.error.message}</p> : <Spinner aria-label="Loading" />;
  const s = status.data;
  if (s.authRequired && !s.authenticated) return <LoginPage onLoggedIn={status.reload} />;
  const section = path.startsWith('/namespaces/') ? `/${path.split('/')[3] === 'istio' ? 'istio' : path.split('/')[3]}` : path.startsWith('/istio') ? '/istio' : path;
  const masthead = (
    <Masthead>
      <MastheadMain>
        <MastheadToggle>
          <PageToggleButton variant="plain" aria-label="Navigation">
            <BarsIcon />
          </PageToggleButton>
        </MastheadToggle>
        <MastheadBrand>
          <MastheadLogo {...linkProps('/overview')} className="trellis-brand">
            Trellis <span className="trellis-brand__sub">console</span>
          </MastheadLogo>
        </MastheadBrand>
      </MastheadMain>
      <MastheadContent>
        <div className="trellis-masthead-right">
          {s.viewOnlyMode ? <Label color="orange" data-test="view-only-badge">View only</Label> : null}
          {!s.istioApiEnabled ? <Label color="grey">Istio API disabled</Label> : null}
          {!s.metricsEnabled ? <Label color="grey">No Prometheus</Label> : null}
          <span className="trellis-version">v{s.version}</span>
          {s.authRequired ? (
            <Button variant="link" onClick={() => void api.logout().then(() => navigate('/overview')).then(status.reload)}>
              Log out
            </Button>
          ) : null}
        </div>
      </MastheadContent>
    </Masthead>
  );
  const sidebar = (
    <PageSidebar>
      <PageSidebarBody>
        <Nav aria-label="Console">
          <NavList>
            {NAV.map((n) => (
              <NavItem key={n.path} itemId={n.path} isActive={section === n.path || (n.path === '/overview' && section === '/')} to={n.path} onClick={(e) => { e.preventDefault(); navigate(n.path); }} data-test={`nav-${n.path.slice(1)}`}>
                {n.label}
              </NavItem>
            ))}
          </NavList>
        </Nav>
      </PageSidebarBody>
    </PageSidebar>
  );
  return (
    <StatusContext.Provider value={s}>
      <Page masthead={masthead} sidebar={sidebar} isManagedSidebar>
        <Routes path={path} />
      </Page>
    </StatusContext.Provider>
  );
}
