"""The math lab's own layers: Layer ▸ Load layer file… (its types join the stack editor's Add layer menu; the
layers already in the network run the new code) and Layer ▸ New layer from template…."""

from __future__ import annotations

import shutil
from pathlib import Path

from PyQt6 import QtCore, QtGui, QtWidgets

from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _

from ..control.guard import STOPPED, GuardedJob, job_result


def template_path() -> Path:
    from visualcnn.data.paths import assets_dir
    return assets_dir() / "layer_template.py"



class LayerFiles:
    """MathLab's custom-layer part (a mixin)."""

    def load_layer_file(self, path: str | None = None) -> list[type] | None:
        """Load a layer file (asks for it when `path` is None); its types appear in the Add layer menu."""
        from visualcnn.custom import load_layer_file
        if path is None:
            start = str(self.window.settings.value("layers/last_dir", str(Path.home())))
            path, _filter = QtWidgets.QFileDialog.getOpenFileName(self.window, _("Load a layer file"), start,
                                                                  _("Python layer files (*.py)"))
            if not path:
                return None
        c = self.controller
        refusal = c.busy_refusal()
        if refusal:
            self.window.statusBar().showMessage(refusal, 6000)
            return None
        # the file's top level is user code: it runs guarded like a step (ui/control/guard.py), so a file that
        # loops, sleeps or calls sys.exit() while it loads leaves the window answering, with Stop in the banner
        what = _("loading the layer file {path}").format(path=Path(path).name)
        loaded: list[list[type] | None] = [None]

        def finished(call) -> bool:
            loaded[0] = self._layer_file_loaded(call, path, what)
            return loaded[0] is not None
        c._guarded(lambda: load_layer_file(path), user_code=True,
                   job=GuardedJob(what, None, finished, holds_session=False))
        return loaded[0]            # None too while it still runs: `finished` ends it then

    def _layer_file_loaded(self, call, path: str, what: str) -> list[type] | None:
        """The end of a guarded load: its classes (the Add layer menu and the stack take them), or None and why."""
        from visualcnn.custom import CustomLayerError
        c = self.controller
        try:
            classes = job_result(c, call, what, "load", None, _("no layer was loaded"))
        except CustomLayerError as e:
            self.report(e, "load")
            self.window.statusBar().showMessage(_("The layer file was not loaded: {why}").format(why=e.message), 8000)
            return None
        except BaseException as e:  # noqa: BLE001 - nothing a layer file does may close the window
            c._failed(e, _("{what} failed: ").format(what=what))
            return None
        if classes is STOPPED:
            return None
        self.window.settings.setValue("layers/last_dir", str(Path(path).parent))
        self.refresh_add_menu()
        names = [cls.type_name for cls in classes]
        used = {layer.type_name for layer in self.session.network.layers} & set(names)
        if used and self._session_free(_("reloading a layer")):
            self._reload_classes()
        self.window.statusBar().showMessage(
            _("Loaded {types} from {file}: add it from the Layer stack's Add layer menu").format(
                types=", ".join(names), file=Path(path).name)
            + (" " + _("(the layers already in the stack now run the new code)") if used else ""), 10000)
        return classes

    def refresh_add_menu(self) -> None:
        """Give the stack editor's Add layer menu an entry for every registered type it lacks."""
        from visualcnn.layers import LAYER_TYPES

        from ui.stack_editor import describe
        editor = self.window.editor
        if hasattr(editor, "refresh_layer_types"):
            editor.refresh_layer_types()
            return
        for kind, cls in LAYER_TYPES.items():
            if kind in editor.add_actions:
                continue
            act = editor.add_menu.addAction(kind)
            act.setToolTip(describe(cls))
            act.setStatusTip(describe(cls))
            act.triggered.connect(lambda _c=False, k=kind: editor.add_layer(k))
            editor.add_actions[kind] = act
        for kind in [k for k in editor.add_actions if k not in LAYER_TYPES]:
            editor.add_menu.removeAction(editor.add_actions.pop(kind))

    def _reload_classes(self) -> None:
        """The network's custom layers run the classes just loaded (same weights if the shapes still fit).

        Building the new classes and replaying the iteration so far with them runs their code: guarded like a
        step (ui/control/guard.py), so an __init__ or forward that never returns can be stopped from the banner."""
        from visualcnn.layers import LAYER_TYPES
        from visualcnn.mistakes import layer_types, loss_types, optimizer_class
        from visualcnn.network import Network
        s, c, wanted = self.session, self.controller, self.wanted
        problems: list[BaseException] = []

        def swap() -> None:
            with s.lock:
                try:
                    net = Network.from_spec(s.network.to_spec(), dtype=s.network.dtype, seed=s.network.seed,
                                            layer_types={**LAYER_TYPES, **layer_types(wanted)},
                                            loss_types=loss_types(wanted))
                    net.set_params(s.network.get_params())
                    opt = optimizer_class(wanted)(net, **s.optimizer.hyper())
                    opt.set_state(s.optimizer.get_state())
                    self._applying = True
                    s.swap_network(net, opt)
                except (VisualCNNError, ValueError) as e:
                    problems.append(e)
                    s.rebuild(spec=s.network.to_spec())          # the new code changed the parameters' shapes
                finally:
                    self._applying = False

        what = _("rebuilding the layer stack with the reloaded layers")

        def finished(call) -> bool:
            try:
                for e in problems:
                    self.report(e, "load")
                if job_result(c, call, what, "load", None, _("the layers may still run the classes they had")) \
                        is STOPPED:
                    return False
            except VisualCNNError as e:
                self.report(e, "load")
                return False
            except BaseException as e:  # noqa: BLE001 - sys.exit() in a reloaded layer must not close the window
                c._failed(e, _("{what} failed: ").format(what=what))
                return False
            finally:
                self._network_changed()
            c.refresh()
            return True
        c._guarded(swap, user_code=True, job=GuardedJob(what, None, finished))

    def new_from_template(self, path: str | None = None) -> Path | None:
        """Save a copy of the layer template where the user chooses; offer to open it."""
        if path is None:
            start = str(Path(str(self.window.settings.value("layers/last_dir", str(Path.home())))) / "my_layer.py")
            path, _filter = QtWidgets.QFileDialog.getSaveFileName(self.window, _("Save a new layer file"), start,
                                                                  _("Python layer files (*.py)"))
            if not path:
                return None
        dest = Path(path)
        if dest.suffix != ".py":
            dest = dest.with_suffix(".py")
        try:
            shutil.copyfile(template_path(), dest)
        except OSError as e:
            QtWidgets.QMessageBox.warning(self.window, _("New layer"), _("Could not write {path}: {why}").format(
                path=dest, why=e.strerror or e))
            return None
        self.window.settings.setValue("layers/last_dir", str(dest.parent))
        self.window.statusBar().showMessage(_("Layer template saved as {path}").format(path=dest), 10000)
        Btn = QtWidgets.QMessageBox.StandardButton
        answer = QtWidgets.QMessageBox.question(
            self.window, _("New layer from template"),
            _("Saved the template (a scaled tanh) as\n{path}\n\nRename its class and type_name, change the math, "
              "then load it with Layer ▸ Load layer file…\n\nOpen it in your editor now?").format(path=dest),
            Btn.Open | Btn.Close)
        if answer == Btn.Open:
            QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(str(dest)))
        return dest

