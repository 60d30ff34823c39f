"""The layer-stack editor, used the way a student would: menus, the property form, undo."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtWidgets import QApplication, QSpinBox

from ui.main_window import MainWindow
from ui.stack_editor import ERROR_BRUSH
from visualcnn.session import Session


@pytest.fixture
def window(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(Session.from_preset("digits-small"), settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def _types(editor):
    return [e["type"] for e in editor.spec()["layers"]]


def _row_is_red(editor, row):
    return editor.tree.topLevelItem(row).background(1) == ERROR_BRUSH


def _form_spin(editor, name) -> QSpinBox:
    w = editor._form_widgets[name]
    return w if isinstance(w, QSpinBox) else w.spin


def test_rows_show_index_type_shape_and_parameter_count(window):
    tree = window.editor.tree
    assert tree.topLevelItemCount() == 5
    conv = tree.topLevelItem(0)
    assert [conv.text(c) for c in range(4)] == ["0", "conv2d", "8×8×8", "80"]
    assert tree.topLevelItem(2).text(2) == "8×4×4"
    assert tree.topLevelItem(4).text(3) == "1,290"


def test_add_a_layer_from_the_menu_rebuilds_the_network(window):
    editor, session = window.editor, window.controller.session
    editor.select_layer(0)
    assert "pooling" in editor.add_actions["avgpool2d"].toolTip().lower()
    editor.add_actions["tanh"].trigger()
    assert _types(editor) == ["conv2d", "tanh", "relu", "maxpool2d", "flatten", "dense"]
    assert [layer.type_name for layer in session.network.layers] == _types(editor)
    assert editor.current_row() == 1
    assert window.actions["step"].isEnabled()


def test_an_invalid_edit_marks_the_row_and_disables_stepping_until_undone(window, qtbot):
    editor, actions = window.editor, window.actions
    net_before = window.controller.session.network
    editor.select_layer(2)                               # maxpool2d on 8×8×8
    _form_spin(editor, "kernel_size").setValue(9)        # a window larger than its input
    assert not editor.valid
    assert _row_is_red(editor, 2)
    assert editor.error.isVisible()
    assert "layer 2 maxpool2d" in editor.error.text()
    assert not actions["step"].isEnabled() and not actions["run"].isEnabled()
    assert not actions["step_iteration"].isEnabled()
    assert "stepping is off" in window.location_label.text()
    assert window.controller.session.network is net_before      # nothing rebuilt
    window.actions["step"].trigger()
    assert window.controller.session.phase_index == 0            # the disabled step did nothing

    editor.tree.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert editor.valid
    assert not _row_is_red(editor, 2)
    assert not editor.error.isVisible()
    assert actions["step"].isEnabled()
    assert window.location_label.text().startswith("iteration 0 · ready")
    assert editor.spec()["layers"][2]["kernel_size"] == 2

    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert not editor.valid and editor.spec()["layers"][2]["kernel_size"] == 9


def test_fixing_the_field_enables_stepping_again(window):
    editor = window.editor
    editor.select_layer(2)
    _form_spin(editor, "kernel_size").setValue(9)
    assert not window.actions["step"].isEnabled()
    _form_spin(editor, "kernel_size").setValue(4)
    assert editor.valid and window.actions["step"].isEnabled()
    assert window.controller.session.network.layers[2].output_shape == (8, 2, 2)
    assert editor.tree.topLevelItem(2).text(2) == "8×2×2"
    window.actions["step"].trigger()
    assert window.controller.session.phase_index == 1


def test_consecutive_spins_of_one_field_undo_as_one_edit(window):
    editor = window.editor
    editor.select_layer(0)
    spin = _form_spin(editor, "out_channels")
    for n in (9, 10, 11):
        spin.setValue(n)
    assert editor.undo_stack.count() == 1
    editor.undo()
    assert editor.spec()["layers"][0]["out_channels"] == 8


def test_remove_duplicate_and_move(window):
    editor = window.editor
    editor.select_layer(1)
    editor.duplicate_button.click()
    assert _types(editor) == ["conv2d", "relu", "relu", "maxpool2d", "flatten", "dense"]
    editor.remove_button.click()
    assert _types(editor) == ["conv2d", "relu", "maxpool2d", "flatten", "dense"]
    editor.select_layer(2)
    editor.up_button.click()
    assert _types(editor) == ["conv2d", "maxpool2d", "relu", "flatten", "dense"]
    assert editor.current_row() == 1
    editor.down_button.click()
    assert _types(editor) == ["conv2d", "relu", "maxpool2d", "flatten", "dense"]


def test_moving_dense_above_pooling_names_the_offending_layer(window):
    editor = window.editor
    editor.select_layer(4)
    editor.up_button.click()
    editor.up_button.click()                         # max pooling now gets a vector of 10 scores
    assert _types(editor) == ["conv2d", "relu", "dense", "maxpool2d", "flatten"]
    assert not editor.valid
    assert editor.error_index == 3
    assert _row_is_red(editor, 3)
    assert "layer 3 maxpool2d" in editor.error.text()
    assert editor.tree.topLevelItem(2).text(2) == "10"       # rows above the error keep their shapes
    assert editor.tree.topLevelItem(4).text(2) == "?"


def test_changing_the_type_keeps_shared_options(window):
    editor = window.editor
    editor.select_layer(2)
    editor._form_widgets["type"].setCurrentText("avgpool2d")
    assert editor.spec()["layers"][2] == {"type": "avgpool2d", "kernel_size": 2, "stride": None}
    assert window.controller.session.network.layers[2].type_name == "avgpool2d"


def test_optional_stride_auto_checkbox(window):
    editor = window.editor
    editor.select_layer(2)
    stride = editor._form_widgets["stride"]
    assert stride.auto.isChecked() and not stride.spin.isEnabled()
    stride.auto.setChecked(False)
    assert editor.spec()["layers"][2]["stride"] == 2
    stride.spin.setValue(1)
    assert window.controller.session.network.layers[2].output_shape == (8, 7, 7)


def test_an_input_shape_no_data_set_has_steps_on_random_images(window):
    # issue 11 item 9: was refused ("does not match the data set"); now stepped on random images of the shape
    editor = window.editor
    editor.input_boxes[2].setValue(9)
    assert editor.valid and window.actions["step"].isEnabled()
    s = window.controller.session
    assert s.dataset.source["name_or_path"] == "random" and s.dataset.input_shape == (1, 8, 9)
    assert "no data set has 1×8×9 images" in window.statusBar().currentMessage()
    editor.input_boxes[2].setValue(8)                       # back to the digits' shape: back to the digits
    assert editor.valid and window.controller.session.dataset.name == "digits"


def test_too_few_class_scores_for_the_data(window):
    editor = window.editor
    editor.select_layer(4)
    _form_spin(editor, "out_features").setValue(5)
    assert not editor.valid and editor.error_index == 4
    assert "10 classes" in editor.error.text()


def test_editing_a_trained_network_asks_first(window, monkeypatch):
    editor, controller = window.editor, window.controller
    controller.step_iteration()
    assert controller.session.iteration == 1
    asked = []
    monkeypatch.setattr(editor, "confirm_discard", lambda: asked.append(1) or False)
    editor.select_layer(0)
    _form_spin(editor, "out_channels").setValue(3)
    assert asked and editor.spec()["layers"][0]["out_channels"] == 8     # declined: nothing changed
    assert _form_spin(editor, "out_channels").value() == 8                # and the form shows it
    assert controller.session.iteration == 1

    monkeypatch.setattr(editor, "confirm_discard", lambda: asked.append(2) or True)
    _form_spin(editor, "out_channels").setValue(3)
    assert controller.session.iteration == 0
    assert controller.session.network.layers[0].output_shape == (3, 8, 8)


def test_drag_reorder_is_one_undoable_edit(window):
    editor = window.editor
    editor._reordered([0, 2, 1, 3, 4])
    assert _types(editor) == ["conv2d", "maxpool2d", "relu", "flatten", "dense"]
    editor.undo()
    assert _types(editor) == ["conv2d", "relu", "maxpool2d", "flatten", "dense"]


def test_ctrl_z_in_the_field_just_edited_undoes_the_stack_edit(window, qtbot):
    """Issue 10 §7: Ctrl+Z did nothing while the cursor was still in the field (the field ate the key)."""
    from PyQt6.QtCore import QEvent, Qt
    from PyQt6.QtGui import QKeyEvent

    editor = window.editor
    editor.select_layer(0)
    spin = _form_spin(editor, "out_channels")
    spin.setValue(12)
    assert editor.spec()["layers"][0]["out_channels"] == 12
    override = QKeyEvent(QEvent.Type.ShortcutOverride, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    for target in (spin, spin.lineEdit()):
        override.setAccepted(False)
        QApplication.sendEvent(target, override)
        assert not override.isAccepted()          # the field does not claim Ctrl+Z: the window's Undo gets it
    window.actions["undo"].trigger()
    assert editor.spec()["layers"][0]["out_channels"] == 8
