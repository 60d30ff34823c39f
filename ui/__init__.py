"""The PyQt6 + pyqtgraph GUI: it observes a visualcnn Session and sends it commands."""
