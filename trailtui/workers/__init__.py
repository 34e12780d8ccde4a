"""Textual-side workers: they start thread workers that ask the `DataService` and hand the
answers to widgets on the UI thread. Neither screens nor widgets; no SQL and no cursors here."""
