"""The service layer: what the CLI and the daemon both do (scan, record, report, open the store, deliver alerts).

Neither front end imports the other; both call these. Services print nothing: they return results and raise
``errors.UsageError``, ``yamlsource.SourceErrors`` or ``state.errors.StateError`` for the front end to show.
"""
