// Every client of the simulator also speaks in snapshots (configs, layouts, reports, tuning
// values), so importing CSSCore brings CSSSnapshots along. The view and the terminal import
// CSSSnapshots alone: they must not see the simulator (scripts/check-architecture.sh).
@_exported import CSSSnapshots
