// The plugin's Istio Config page under Networking: every Istio and Gateway API object with its validations.

import { ConfigListPage } from '../pages/config';
import { PluginFrame } from './setup';

export default function IstioConfigPage() {
  return (
    <PluginFrame>
      <ConfigListPage />
    </PluginFrame>
  );
}
