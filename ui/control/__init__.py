"""The controller's parts, one responsibility each; `ui.controller.Controller` combines them.

- bridge.py: SessionBridge (the Session's plain-callback events as queued Qt signals) and status_text;
- run.py: RunControl — run / pause / resume / stop on the worker thread, its progress, speed and holds;
- inputs.py: InputControl — a pinned image (dataset browser, drawing pad), predictions for the browser;
- files.py: FileControl — presets, other data sets, exports of the metrics and of a step's arrays;
- stack.py: StackControl — the editor's spec checked against the data set and applied to the session.

The parts are mixins of the one Controller (they share its state: session, worker, window); none is
instantiated alone. A new command group goes into a new module here, mixed into Controller.
"""
