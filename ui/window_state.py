"""WindowState: what the window remembers (QSettings) and how it is laid out — dock geometry, the default
sizes, Reset layout, the text size, the run settings and the last preset."""

from __future__ import annotations

from PyQt6.QtCore import QByteArray, Qt

from .controls import RUN_UNITS
from .textsize import PRESENTATION_PT, set_text_size, text_size


#: the panels presentation mode keeps (beside the pipeline): what a lecture looks at
PRESENTATION_DOCKS = ("inspector", "samples", "metrics")


class WindowState:
    """Mixin of MainWindow: restore / save / reset the layout and the remembered settings."""

    def _restore_run_settings(self) -> None:
        s, panel = self.settings, self.hyper_panel
        try:
            speed = float(s.value("run/speed", panel.speed))
            length = int(s.value("run/length", panel.iterations.value()))
        except (TypeError, ValueError):
            return
        panel.set_speed(speed)
        panel.iterations.setValue(length)
        unit = s.value("run/unit", panel.run_unit_value())
        if unit in RUN_UNITS:
            panel.set_run_unit(unit)

    def _save_run_settings(self) -> None:
        s, panel = self.settings, self.hyper_panel
        s.setValue("run/speed", panel.speed)
        s.setValue("run/length", panel.iterations.value())
        s.setValue("run/unit", panel.run_unit_value())
        preset = getattr(self.controller.session, "preset", None)
        if preset:
            s.setValue("session/last_preset", preset)

    def zoom(self, delta: int) -> None:
        """Ctrl+= / Ctrl+-: all text one point larger or smaller, the pipeline's labels too; remembered
        (outside presentation mode, whose size is its own)."""
        pt = set_text_size(text_size() + delta)
        if not self.presenting:
            self.settings.setValue("view/font_pt", pt)

    @property
    def presenting(self) -> bool:
        return getattr(self, "_presentation_from", None) is not None

    def set_presentation(self, on: bool, full_screen: bool = True) -> None:
        """View ▸ Presentation (F12): full screen and text at PRESENTATION_PT (or larger, if it already was);
        leaving restores the window and the text size it had. full_screen=False: the text only (snapshots)."""
        if on == self.presenting:
            return
        if on:
            self._presentation_from = (text_size(), self.isFullScreen(), self.isMaximized(), full_screen,
                                       self.saveState())
            # large text needs the room: only what a lecture looks at stays (View brings back any panel)
            for key, dock in self.docks.items():
                if key not in PRESENTATION_DOCKS:
                    dock.hide()
            set_text_size(max(PRESENTATION_PT, text_size()))
            if full_screen:
                self.showFullScreen()
            self._presentation_sizes()
        else:
            pt, full, maximized, went_full, state = self._presentation_from
            self._presentation_from = None
            set_text_size(pt)
            self.restoreState(state)
            if went_full and not full:
                self.showMaximized() if maximized else self.showNormal()
            self._hide_stale_tab_bars()
        act = self.actions.get("presentation")
        if act is not None and act.isChecked() != on:
            act.setChecked(on)

    def restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        self._needs_default_sizes = not (isinstance(state, QByteArray) and not state.isEmpty())
        if not self._needs_default_sizes:
            self.restoreState(state)
        self._geometry_to_reapply = geometry if isinstance(geometry, QByteArray) and not geometry.isEmpty() else None

    def _hide_stale_tab_bars(self) -> None:
        """Qt 6.11 leaves the first tab bar of a second tabbed dock group behind, visible over the docks
        (it holds the group's first two tabs, with the real bar beside it): hide such leftovers."""
        from PyQt6.QtWidgets import QTabBar
        bars = [b for b in self.findChildren(QTabBar) if b.parent() is self and b.isVisibleTo(self)]
        tabs = [{b.tabText(i) for i in range(b.count())} for b in bars]
        shown = {d.windowTitle() for d in self.docks.values() if not d.isHidden()}
        for bar, mine in zip(bars, tabs):
            # a leftover of a second group, or a bar whose docks were hidden but one (presentation mode)
            if any(mine < other for other in tabs) or len(mine & shown) <= 1:
                bar.hide()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._hide_stale_tab_bars()
        if self._geometry_to_reapply is not None:
            # before the first show tabbed docks count as stacked, so the restored size may have been clamped
            self.restoreGeometry(self._geometry_to_reapply)
            self._geometry_to_reapply = None
        if self._needs_default_sizes:      # dock sizes only take once the window has its real size
            self._needs_default_sizes = False
            self._default_sizes()

    def _default_sizes(self) -> None:
        """The stack a fifth of the width; the inspector's column about 30 % (its maps ≥ 120 px at 1440×900),
        with the inspector over 60 % of its height; the curves under the pipeline about a third of the height."""
        left = max(290, min(400, self.width() // 6))
        right = max(400, min(640, self.width() * 32 // 100))
        self.resizeDocks([self.docks["stack"], self.docks["inspector"]], [left, right], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["inspector"], self.docks["controls"]],
                         [self.height() * 60 // 100, self.height() * 40 // 100], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["metrics"]], [max(310, self.height() * 36 // 100)], Qt.Orientation.Vertical)

    def _presentation_sizes(self) -> None:
        for key, dock in self.docks.items():
            if key not in PRESENTATION_DOCKS:
                dock.hide()
        self.docks["samples"].show()
        self.docks["inspector"].show()
        self.docks["metrics"].show()
        self.resizeDocks([self.docks["inspector"]], [max(420, self.width() * 36 // 100)], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["inspector"], self.docks["samples"]],
                         [self.height() * 62 // 100, self.height() * 38 // 100], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["metrics"]], [self.height() * 26 // 100], Qt.Orientation.Vertical)
        self._hide_stale_tab_bars()

    def save_layout(self) -> None:
        if self.presenting:            # remember the working layout, not presentation mode's
            self.settings.setValue("window/state", self._presentation_from[4])
            self.settings.sync()
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()

    def reset_layout(self) -> None:
        """View ▸ Reset layout: every panel back in its place, floating ones re-docked."""
        for dock in self.docks.values():
            dock.setFloating(False)
        self.restoreState(self._default_state)
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.toolbar.show()
        self._default_sizes()
        self._hide_stale_tab_bars()
