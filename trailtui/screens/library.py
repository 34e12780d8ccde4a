"""The query library: pick a saved investigation, fill in its parameters, run it.

Dismisses with `(sql, params)`: the SQL as it goes into the console editor (a `-- title` line,
then the query with its `$name` placeholders) and the values to bind, already checked and
converted by `LibraryQuery.bind`. Values are never written into the SQL text. Dismisses with
None on escape. Titles, descriptions and SQL of the user's own `.sql` files are shown as plain
text (`Content`), never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from trailtui.data.queries import LibraryQuery, ParamError
from trailtui.sanitize import safe_content, safe_text

LibraryChoice = tuple[str, dict[str, object]]


class QueryLibraryScreen(ModalScreen[LibraryChoice | None]):
    """A grouped list of library queries beside the selected one's form and SQL."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="trailtui.library.close"),
        Binding("ctrl+r,f5", "run", "Run", id="trailtui.library.run"),
    ]

    DEFAULT_CSS = """
    QueryLibraryScreen {
        align: center middle;
        & > #library-dialog {
            width: 90%;
            max-width: 140;
            height: 85%;
            border: round $accent;
            border-title-color: $text-accent;
            background: $surface;
            padding: 0 1;
        }
        #library-warnings {
            color: $text-warning;
            height: auto;
            max-height: 4;
        }
        #library-body {
            height: 1fr;
        }
        #library-list {
            width: 2fr;
            height: 1fr;
        }
        #library-detail {
            width: 3fr;
            height: 1fr;
            padding: 0 0 0 1;
        }
        #library-description {
            height: auto;
            margin-bottom: 1;
        }
        #library-form {
            height: auto;
        }
        #library-form > Label {
            margin-top: 1;
            color: $text-muted;
        }
        #library-error {
            height: auto;
            color: $text-error;
        }
        #library-sql {
            height: auto;
            margin-top: 1;
            color: $text-muted;
        }
        #library-help {
            height: 1;
            color: $text-muted;
        }
    }
    """

    def __init__(
        self,
        queries: Sequence[LibraryQuery],
        *,
        initial: str | None = None,
        warnings: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.queries = tuple(queries)
        self.initial = initial
        self.warnings = tuple(warnings)
        self._by_id = {q.id: q for q in self.queries}
        self.current: LibraryQuery | None = None
        self._fields: list[tuple[str, Input]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="library-dialog") as dialog:
            dialog.border_title = "Query library"
            if self.warnings:
                yield Static(
                    safe_content("\n".join(self.warnings), multiline=True), id="library-warnings"
                )
            with Horizontal(id="library-body"):
                yield OptionList(*self._options(), id="library-list")
                with VerticalScroll(id="library-detail"):
                    yield Static(id="library-description")
                    yield Vertical(id="library-form")
                    yield Static(id="library-error")
                    yield Static(id="library-sql")
            yield Static(
                Content("enter: run (or fill in the values) · tab: next field · escape: close"),
                id="library-help",
            )

    def _options(self) -> list[Option]:
        options: list[Option] = []
        group = None
        for query in self.queries:
            if query.group != group:
                group = query.group
                options.append(Option(Content.styled(safe_text(group), "bold"), disabled=True))
            options.append(Option(safe_content("  " + query.title), id=query.id))
        return options

    def on_mount(self) -> None:
        option_list = self.query_one("#library-list", OptionList)
        first = self.initial if self.initial in self._by_id else None
        if first is None and self.queries:
            first = self.queries[0].id
        if first is not None:
            option_list.highlighted = option_list.get_option_index(first)
            self.show_query(self._by_id[first])
        if self.initial in self._by_id and self._by_id[self.initial].params:
            self.call_after_refresh(self._focus_first_input)
        else:
            option_list.focus()

    def show_query(self, query: LibraryQuery) -> None:
        """Show a query's description, parameter fields and SQL."""
        if self.current is query:
            return
        self.current = query
        about = query.description or ""
        source = "" if query.source == "built in" else f"\nfrom {query.source}"
        self.query_one("#library-description", Static).update(
            safe_content(f"{query.title}\n{about}{source}".rstrip(), multiline=True)
        )
        self.query_one("#library-sql", Static).update(safe_content(query.sql, multiline=True))
        self.query_one("#library-error", Static).update(Content(""))
        form = self.query_one("#library-form", Vertical)
        form.remove_children()
        widgets: list[Label | Input] = []
        self._fields = []
        for param in query.params:
            field = Input(value=param.default, placeholder=param.hint, classes="library-param")
            widgets.append(Label(safe_content(param.label)))
            widgets.append(field)
            self._fields.append((param.name, field))
        if widgets:
            form.mount_all(widgets)

    def _inputs(self) -> list[Input]:
        return [field for _name, field in self._fields]

    def _focus_first_input(self) -> None:
        inputs = self._inputs()
        if inputs:
            inputs[0].focus()

    @on(OptionList.OptionHighlighted, "#library-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        query = self._by_id.get(event.option.id or "")
        if query is not None:
            self.show_query(query)

    @on(OptionList.OptionSelected, "#library-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        query = self._by_id.get(event.option.id or "")
        if query is None:
            return
        self.show_query(query)
        if query.params:
            self.call_after_refresh(self._focus_first_input)
        else:
            self.action_run()

    @on(Input.Submitted, ".library-param")
    def _submitted(self, event: Input.Submitted) -> None:
        inputs = self._inputs()
        if event.input in inputs and event.input is not inputs[-1]:
            inputs[inputs.index(event.input) + 1].focus()
        else:
            self.action_run()

    def action_run(self) -> None:
        """Check the values; dismiss with the SQL and the bound values, or show what is wrong."""
        query = self.current
        if query is None:
            return
        values = {name: field.value for name, field in self._fields}
        try:
            bound = query.bind(values)
        except ParamError as exc:
            self.query_one("#library-error", Static).update(safe_content(str(exc)))
            for name, field in self._fields:
                if name == exc.param.name:
                    field.focus()
            return
        self.dismiss((query.editor_text, bound))

    def action_close(self) -> None:
        self.dismiss(None)


__all__ = ["LibraryChoice", "QueryLibraryScreen"]
