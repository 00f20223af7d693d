// Draws the traffic graph with @patternfly/react-topology: shapes per node type, health colours, edge labels, mTLS locks.

import {
  DagreLayout,
  DefaultEdge,
  DefaultNode,
  EdgeStyle,
  EdgeTerminalType,
  GRAPH_LAYOUT_END_EVENT,
  GraphComponent,
  ModelKind,
  NodeShape,
  NodeStatus,
  observer,
  SELECTION_EVENT,
  TopologyControlBar,
  TopologySideBar,
  TopologyView,
  Visualization,
  VisualizationProvider,
  VisualizationSurface,
  createTopologyControlButtons,
  defaultControlButtonsOptions,
  withPanZoom,
  withSelection,
  type ComponentFactory,
  type Edge,
  type GraphElement,
  type Model,
  type Node,
  type WithSelectionProps,
} from '@patternfly/react-topology';
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import LockIcon from '@patternfly/react-icons/dist/esm/icons/lock-icon';
import { formatBytes, formatMs, formatPercent, formatRps } from '../components/status';
import type { Graph, GraphEdgeData, GraphNodeData, HealthStatus } from '../types';

export type EdgeLabelMode = 'rps' | 'errors' | 'responseTime' | 'none';

interface EdgeView extends GraphEdgeData {
  labelMode: EdgeLabelMode;
  showSecurity: boolean;
}

const NODE_SIZE = 44;

const SHAPES: Record<GraphNodeData['nodeType'], NodeShape> = {
  app: NodeShape.rect,
  workload: NodeShape.ellipse,
  service: NodeShape.trapezoid,
  unknown: NodeShape.rhombus,
};

/** Kiali draws a waypoint as a workload with its own badge; the node proxy is infrastructure, set apart by shape. */
function shapeOf(d: GraphNodeData): NodeShape {
  return d.isZtunnel ? NodeShape.octagon : d.isWaypoint ? NodeShape.hexagon : SHAPES[d.nodeType];
}

/** The glyph inside a node: what kind of thing it is. */
function glyphOf(d: GraphNodeData): string {
  if (d.isZtunnel) return 'ZT';
  if (d.isWaypoint) return 'WP';
  if (d.isGateway) return 'GW';
  return d.nodeType === 'service' ? 'S' : d.nodeType === 'workload' ? 'W' : d.nodeType === 'app' ? 'A' : '?';
}

/** The badge above a node: ambient mode's parts (Kiali's ambient, waypoint and ztunnel markers). */
function badgeOf(d: GraphNodeData): { test: string; text: string } | undefined {
  if (d.isZtunnel) return { test: 'graph-node-ztunnel', text: 'ztunnel (node proxy)' };
  if (d.isWaypoint) return { test: 'graph-node-waypoint', text: 'waypoint' };
  if (d.isAmbient) return { test: 'graph-node-ambient', text: 'ambient' };
  return undefined;
}

function status(h: HealthStatus): NodeStatus {
  return h === 'Failure' ? NodeStatus.danger : h === 'Degraded' ? NodeStatus.warning : h === 'Healthy' ? NodeStatus.success : NodeStatus.default;
}

export function nodeLabel(d: GraphNodeData): { label: string; secondary?: string } {
  if (d.nodeType === 'unknown') return { label: 'unknown' };
  if (d.nodeType === 'service') return { label: d.service ?? d.id };
  if (d.nodeType === 'app') return d.version ? { label: d.app ?? d.id, secondary: d.version } : { label: d.app ?? d.id };
  return { label: d.workload ?? d.id };
}

function edgeText(d: EdgeView): string {
  switch (d.labelMode) {
    case 'rps':
      return d.protocol === 'tcp' ? formatBytes(d.tcpBps) : formatRps(d.rps);
    case 'errors':
      return d.protocol === 'tcp' || d.errorRate === 0 ? '' : formatPercent(d.errorRate);
    case 'responseTime':
      return d.responseTimeMs === undefined ? '' : formatMs(d.responseTimeMs);
    default:
      return '';
  }
}

const GraphNode = observer(({ element, onSelect, selected }: { element: GraphElement } & WithSelectionProps) => {
  const node = element as Node;
  const d = node.getData() as GraphNodeData;
  const { label, secondary } = nodeLabel(d);
  const { width, height } = node.getBounds();
  const badge = badgeOf(d);
  return (
    <g
      data-test="graph-node"
      data-node-id={d.id}
      data-node-type={d.nodeType}
      data-health={d.health}
      data-label={label}
      data-ambient={d.isAmbient ? 'true' : undefined}
      data-waypoint={d.isWaypoint ? 'true' : undefined}
      data-ztunnel={d.isZtunnel ? 'true' : undefined}
    >
      <DefaultNode element={node} onSelect={onSelect} selected={selected} nodeStatus={status(d.health)} showStatusDecorator={d.health === 'Failure' || d.health === 'Degraded'} label={label} {...(secondary ? { secondaryLabel: secondary } : {})} truncateLength={28}>
        <text x={width / 2} y={height / 2 + 5} textAnchor="middle" fontSize="13" fontWeight="600" fill="#151515" pointerEvents="none">
          {glyphOf(d)}
        </text>
        {badge ? (
          <text data-test={badge.test} x={width / 2} y={-6} textAnchor="middle" fontSize="10" fill="#0066cc" pointerEvents="none">
            {badge.text}
          </text>
        ) : null}
      </DefaultNode>
    </g>
  );
});

const GraphEdge = observer(({ element, onSelect, selected }: { element: GraphElement } & WithSelectionProps) => {
  const edge = element as Edge;
  const d = edge.getData() as EdgeView;
  const s = edge.getStartPoint();
  const t = edge.getEndPoint();
  const bends = edge.getBendpoints();
  const mid = bends.length ? bends[Math.floor(bends.length / 2)]! : { x: (s.x + t.x) / 2, y: (s.y + t.y) / 2 };
  const text = edgeText(d);
  const lock = d.showSecurity && (d.isMTLS ?? 0) > 0;
  const w = text.length * 6.4 + (lock ? 16 : 0) + 8;
  return (
    <g data-test="graph-edge" data-source={d.source} data-target={d.target} data-protocol={d.protocol} data-mtls={lock ? 'true' : 'false'} data-health={d.health}>
      <DefaultEdge
        element={edge}
        onSelect={onSelect}
        selected={selected}
        endTerminalType={EdgeTerminalType.directional}
        endTerminalStatus={status(d.health)}
        edgeStyle={d.protocol === 'tcp' ? EdgeStyle.dashed : EdgeStyle.solid}
      />
      {text || lock ? (
        <g transform={`translate(${mid.x - w / 2}, ${mid.y - 9})`} onClick={onSelect} className="trellis-edge-label" data-test="edge-label">
          <rect width={w} height={18} rx={3} fill="#fff" stroke="#d2d2d2" />
          {lock ? (
            <g transform="translate(4, 3)" data-test="mtls-lock">
              <LockIcon width={12} height={12} color="#3c3f42" />
            </g>
          ) : null}
          <text x={(lock ? 18 : 4) + (text.length * 6.4) / 2} y={13} textAnchor="middle" fontSize="11" fill="#151515" data-test="edge-label-text">
            {text}
          </text>
        </g>
      ) : null}
    </g>
  );
});

const factory: ComponentFactory = (kind) => {
  switch (kind) {
    case ModelKind.graph:
      return withPanZoom()(GraphComponent);
    case ModelKind.node:
      return withSelection()(GraphNode) as ReturnType<ComponentFactory>;
    case ModelKind.edge:
      return withSelection()(GraphEdge) as ReturnType<ComponentFactory>;
    default:
      return undefined;
  }
};

function toModel(graph: Graph, labelMode: EdgeLabelMode, showSecurity: boolean): Model {
  return {
    graph: { id: 'trellis-graph', type: 'graph', layout: 'Dagre' },
    nodes: graph.elements.nodes.map((n) => ({ id: n.data.id, type: 'node', width: NODE_SIZE, height: NODE_SIZE, shape: shapeOf(n.data), status: status(n.data.health), label: nodeLabel(n.data).label, data: n.data })),
    edges: graph.elements.edges.map((e) => ({ id: e.data.id, type: 'edge', source: e.data.source, target: e.data.target, data: { ...e.data, labelMode, showSecurity } satisfies EdgeView })),
  };
}

export function GraphView({ graph, labelMode, showSecurity, renderDetails }: { graph: Graph; labelMode: EdgeLabelMode; showSecurity: boolean; renderDetails: (selected: { node?: GraphNodeData; edge?: GraphEdgeData }) => ReactNode }) {
  const [selectedIds, setSelectedIds] = useState<string[]>([]);
  // Set once the layout has run and the view is fitted: what a reader (or a test) should wait for.
  const [ready, setReady] = useState(false);
  const fitted = useRef(false);
  const lastShape = useRef('');
  const controller = useMemo(() => {
    const c = new Visualization();
    c.registerLayoutFactory((_type, g) => new DagreLayout(g, { rankdir: 'LR', ranksep: 70, nodesep: 30, edgesep: 20, marginx: 20, marginy: 20 }));
    c.registerComponentFactory(factory);
    c.fromModel({ graph: { id: 'trellis-graph', type: 'graph', layout: 'Dagre' } }, false);
    return c;
  }, []);

  useEffect(() => {
    const onSelect = (ids: string[]) => setSelectedIds(ids);
    const onLayoutEnd = () => {
      if (!fitted.current) {
        fitted.current = true;
        controller.getGraph().fit(60);
      }
      setReady(true);
    };
    controller.addEventListener(SELECTION_EVENT, onSelect);
    controller.addEventListener(GRAPH_LAYOUT_END_EVENT, onLayoutEnd);
    return () => {
      controller.removeEventListener(SELECTION_EVENT, onSelect);
      controller.removeEventListener(GRAPH_LAYOUT_END_EVENT, onLayoutEnd);
    };
  }, [controller]);

  useEffect(() => {
    controller.fromModel(toModel(graph, labelMode, showSecurity), true);
    // Lay out again only when nodes or edges come or go, so a refresh does not move what the user is looking at.
    const shape = [...graph.elements.nodes.map((n) => n.data.id), '|', ...graph.elements.edges.map((e) => e.data.id)].join(',');
    if (shape !== lastShape.current) {
      lastShape.current = shape;
      fitted.current = false;
      setReady(false);
      controller.getGraph().layout();
    }
  }, [controller, graph, labelMode, showSecurity]);

  const selectedNode = graph.elements.nodes.find((n) => n.data.id === selectedIds[0])?.data;
  const selectedEdge = graph.elements.edges.find((e) => e.data.id === selectedIds[0])?.data;
  const open = !!(selectedNode || selectedEdge);
  return (
    <div className="trellis-graph__view" data-test="graph-view" data-ready={ready ? 'true' : 'false'}>
    <VisualizationProvider controller={controller}>
    <TopologyView
      sideBarOpen={open}
      sideBar={
        <TopologySideBar show={open} onClose={() => setSelectedIds([])}>
          <div className="trellis-side-panel" data-test="side-panel">
            {renderDetails({ ...(selectedNode ? { node: selectedNode } : {}), ...(selectedEdge ? { edge: selectedEdge } : {}) })}
          </div>
        </TopologySideBar>
      }
      controlBar={
        <TopologyControlBar
          controlButtons={createTopologyControlButtons({
            ...defaultControlButtonsOptions,
            zoomInCallback: () => controller.getGraph().scaleBy(4 / 3),
            zoomOutCallback: () => controller.getGraph().scaleBy(0.75),
            fitToScreenCallback: () => controller.getGraph().fit(60),
            resetViewCallback: () => {
              controller.getGraph().reset();
              controller.getGraph().layout();
            },
            legend: false,
          })}
        />
      }
    >
      <VisualizationSurface state={{ selectedIds }} />
    </TopologyView>
    </VisualizationProvider>
    </div>
  );
}
