import { useUi } from '../store/ui';

/** Buttons on the canvas's top corners that collapse / expand the node palette and the inspector. */
export function SideToggles() {
  const palette = useUi((s) => s.paletteOpen);
  const inspector = useUi((s) => s.inspectorOpen);
  return (
    <>
      <button
        className={`side-toggle left${palette ? ' open' : ''}`}
        onClick={() => useUi.getState().togglePalette()}
        title={palette ? 'Hide the node palette' : 'Show the node palette'}
        aria-label={palette ? 'Hide the node palette' : 'Show the node palette'}
        aria-pressed={palette}
        data-testid="toggle-palette"
      >
        {palette ? '‹' : '›'} Nodes
      </button>
      <button
        className={`side-toggle right${inspector ? ' open' : ''}`}
        onClick={() => useUi.getState().toggleInspector()}
        title={inspector ? 'Hide the inspector' : 'Show the inspector'}
        aria-label={inspector ? 'Hide the inspector' : 'Show the inspector'}
        aria-pressed={inspector}
        data-testid="toggle-inspector"
      >
        Inspector {inspector ? '›' : '‹'}
      </button>
    </>
  );
}
