// The plugin's Service Mesh page: the overview of every namespace and the traffic graph, as two tabs.

import { Tab, Tabs, TabTitleText } from '@patternfly/react-core';
import { useState } from 'react';
import { GraphPage } from '../pages/graph';
import { OverviewPage } from '../pages/overview';
import { PluginFrame } from './setup';

export default function ServiceMeshPage() {
  const [tab, setTab] = useState(window.location.pathname.endsWith('/graph') ? 'graph' : 'overview');
  return (
    <PluginFrame>
      <Tabs activeKey={tab} onSelect={(_e, k) => setTab(String(k))} mountOnEnter unmountOnExit data-test="service-mesh-tabs">
        <Tab eventKey="overview" title={<TabTitleText>Overview</TabTitleText>} data-test="service-mesh-overview">
          <OverviewPage />
        </Tab>
        <Tab eventKey="graph" title={<TabTitleText>Traffic Graph</TabTitleText>} data-test="service-mesh-graph">
          <div className="trellis-plugin-graph">
            <GraphPage />
          </div>
        </Tab>
      </Tabs>
    </PluginFrame>
  );
}
