"""Old name of `trailtui.widgets.virtual_table` (the table is generic: events, facets and SQL
results use it). Kept so branches written against the old name still import; new code imports
`VirtualTable` from `trailtui.widgets.virtual_table`. Handlers named `on_event_table_*` no longer
fire: use `@on(VirtualTable.RowActivated)` or `on_virtual_table_*`."""

from trailtui.widgets.virtual_table import (
    PAGE_SIZE,
    Column,
    ListRowSource,
    RowSource,
    VirtualTable,
    compute_widths,
)

EventTable = VirtualTable

__all__ = ["PAGE_SIZE", "Column", "EventTable", "ListRowSource", "RowSource", "compute_widths"]
